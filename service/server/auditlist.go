package server

import (
	"context"
	"errors"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/service/apierr"
	"github.com/procore-directory/procore-directory/service/audit"
)

// opListAudit names ListAuditEvents in error messages.
const opListAudit = "list audit events"

// auditLister serves ListAuditEvents: the trail's Reader, and who may
// read it.
type auditLister struct {
	reader      audit.Reader       // nil: no readable sink
	authz       service.Authorizer // nil: every caller (client-credentials without a policy, --dev)
	passThrough bool
	check       func(req *directoryv1.ListAuditEventsRequest) error
}

// msgListOff and msgNoReader are AUDIT_LIST_OFF's messages.
const (
	msgListOff  = opListAudit + ": off in pass-through mode: the trail names callers by token hash, and only an auditor of the authorization policy (client-credentials mode) may read it"
	msgNoReader = opListAudit + ": no readable audit sink on this replica: run with --audit=redis (the fleet's trail) or --audit=file:PATH"
	msgNotAudit = "permission denied: the authorization policy does not mark this caller auditor: true"
)

// ListAuditEvents implements DirectoryService (AIP-132).
func (l *auditLister) ListAuditEvents(ctx context.Context, req *directoryv1.ListAuditEventsRequest) (*directoryv1.ListAuditEventsResponse, error) {
	switch {
	case l.passThrough:
		return nil, apierr.New(codes.Unimplemented, apierr.ReasonAuditListOff, msgListOff, nil)
	case l.reader == nil:
		return nil, apierr.New(codes.Unimplemented, apierr.ReasonAuditListOff, msgNoReader, nil)
	}
	if err := l.check(req); err != nil {
		return nil, err
	}
	if l.authz != nil {
		grant, err := l.authz.Authorize(ctx, req.GetCompanyId())
		if err != nil {
			return nil, err
		}
		if !grant.Auditor {
			return nil, apierr.New(codes.PermissionDenied, apierr.ReasonCallerNotAllowed, msgNotAudit, nil)
		}
	}
	events, next, err := audit.List(ctx, l.reader, req.GetCompanyId(), req.GetFilter(), int(req.GetPageSize()), req.GetPageToken())
	switch {
	case errors.Is(err, audit.ErrFilter):
		return nil, badField("filter", err.Error(), "INVALID_FILTER")
	case errors.Is(err, audit.ErrPageToken):
		return nil, badField("page_token", err.Error(), "INVALID_PAGE_TOKEN")
	case err != nil:
		return nil, apierr.New(codes.Unavailable, apierr.ReasonInternal, opListAudit+": the audit trail cannot be read: "+err.Error(), nil)
	}
	resp := &directoryv1.ListAuditEventsResponse{NextPageToken: next, AuditEvents: make([]*directoryv1.AuditEvent, len(events))}
	for i := range events {
		resp.AuditEvents[i] = auditEventProto(&events[i])
	}
	return resp, nil
}

func badField(field, desc, reason string) error {
	return apierr.InvalidArgument([]*errdetails.BadRequest_FieldViolation{{Field: field, Description: desc, Reason: reason}})
}

// auditEventProto is the trail's event as the API's AuditEvent.
func auditEventProto(e *audit.Event) *directoryv1.AuditEvent {
	return &directoryv1.AuditEvent{
		Time: timestamppb.New(e.Time), Event: e.Event, Caller: e.Caller, CompanyId: e.CompanyID, UserId: e.UserID,
		Fields: e.Fields, Outcome: e.Outcome, Code: e.Code, Reason: e.Reason, RequestId: e.RequestID, CallId: e.CallID,
		UpstreamStatus: int32(e.UpstreamStatus), UpstreamRequestId: e.UpstreamRequestID, TraceId: e.TraceID,
		Operation: e.Operation, Replica: e.Replica,
	}
}
