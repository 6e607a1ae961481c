package batch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/service/apierr"
	"github.com/procore-directory/procore-directory/service/audit"
	"github.com/procore-directory/procore-directory/service/operations"
	"github.com/procore-directory/procore-directory/upstream"
)

// opBatch names the operation in error messages.
const opBatch = "batch update company users"

// planned is one item of a batch, checked.
type planned struct {
	index int32
	req   *directoryv1.UpdateCompanyUserRequest
	plan  *service.Planned
}

// Submit implements BatchUpdateCompanyUsers. The whole batch is checked
// before anything is recorded or sent: the batch's own rules, then every
// item through the single update's plan (validation, mask, translation,
// field rule) and authorization, errors re-pathed to `requests[i]`; one
// bad item refuses the call, nothing sent. A request_id dedupes (AIP-155)
// in the caller's scope. validate_only (AIP-163) answers a done operation
// and the preview of the Procore requests in apierr.ProcoreRequestHeader.
func (b *Batcher) Submit(ctx context.Context, req *directoryv1.BatchUpdateCompanyUsersRequest) (*longrunningpb.Operation, error) {
	items, err := b.check(ctx, req)
	if err != nil {
		return nil, err
	}
	if req.GetValidateOnly() {
		return b.validateOnly(ctx, req, items)
	}
	md, err := anypb.New(&directoryv1.BatchUpdateCompanyUsersMetadata{
		Total: int32(len(items)), Pending: int32(len(items)), CreateTime: timestamppb.New(b.now()),
	})
	if err != nil {
		return nil, apierr.New(codes.Internal, apierr.ReasonInternal, opBatch+": "+err.Error(), nil)
	}
	op, created, err := b.store.Create(ctx, operations.CreateRequest{
		Scope: b.core.Scope(ctx), RequestID: req.GetRequestId(), Fingerprint: fingerprint(req), Metadata: md,
	})
	switch {
	case errors.Is(err, operations.ErrRequestIDReused):
		return nil, apierr.InvalidArgument([]*errdetails.BadRequest_FieldViolation{{
			Field: "request_id", Reason: "REQUEST_ID_REUSED",
			Description: "this request_id was already used with a different request: use a new UUID for a new batch",
		}})
	case err != nil:
		return nil, apierr.New(codes.Unavailable, apierr.ReasonInternal, opBatch+": operation store unavailable: "+err.Error(), nil)
	case !created:
		return public(op), nil
	}
	b.keepPlans(op.GetName(), items)
	if err := b.enqueue(ctx, op.GetName(), req.GetCompanyId(), items); err != nil {
		notQueued := apierr.New(codes.Unavailable, apierr.ReasonInternal, opBatch+": the batch could not be queued; nothing was sent", nil)
		_ = b.finishEarly(context.WithoutCancel(ctx), op.GetName(), notQueued, notQueued)
		return nil, apierr.New(codes.Unavailable, apierr.ReasonInternal, opBatch+": cannot queue the batch: "+err.Error(), nil)
	}
	return op, nil
}

// check is the submission's all-or-nothing check.
func (b *Batcher) check(ctx context.Context, req *directoryv1.BatchUpdateCompanyUsersRequest) ([]planned, error) {
	if err := b.core.CheckMessage(req); err != nil {
		return nil, err
	}
	if n := len(req.GetRequests()); n > b.maxItems {
		return nil, apierr.InvalidArgument([]*errdetails.BadRequest_FieldViolation{{
			Field: "requests", Reason: "BATCH_TOO_LARGE",
			Description: fmt.Sprintf("%d requests: a batch takes at most %d (--max-batch-items); split it", n, b.maxItems),
		}})
	}
	var violations []*errdetails.BadRequest_FieldViolation
	bad := func(i int, field, reason, desc string) {
		violations = append(violations, &errdetails.BadRequest_FieldViolation{Field: itemPath(i, field), Reason: reason, Description: desc})
	}
	first := make(map[int64]int, len(req.GetRequests()))
	items := make([]planned, 0, len(req.GetRequests()))
	for i, r := range req.GetRequests() {
		switch c := r.GetCompanyId(); {
		case c != 0 && c != req.GetCompanyId():
			bad(i, "company_id", "COMPANY_MISMATCH", fmt.Sprintf("must be unset or the batch's company_id (%d): a batch changes the users of one company", req.GetCompanyId()))
		case r.GetRequestId() != "":
			bad(i, "request_id", "NOT_IN_BATCH", "must be unset: the batch's own request_id dedupes the whole batch")
		case r.GetValidateOnly():
			bad(i, "validate_only", "NOT_IN_BATCH", "must be unset: the batch's own validate_only governs")
		}
		if j, dup := first[r.GetId()]; dup && r.GetId() != 0 {
			bad(i, "id", "DUPLICATE_USER", "user "+strconv.FormatInt(r.GetId(), 10)+" is already updated by "+itemPath(j, "")+": a user may appear once in a batch")
			continue
		}
		first[r.GetId()] = i
		item := proto.CloneOf(r)
		item.CompanyId = req.GetCompanyId()
		p, err := b.core.PlanUpdate(ctx, item)
		if err != nil {
			v := badRequestOf(err)
			if len(v) == 0 {
				return nil, reindex(err, i)
			}
			for _, fv := range v {
				bad(i, fv.GetField(), fv.GetReason(), fv.GetDescription())
			}
			continue
		}
		items = append(items, planned{index: int32(i), req: item, plan: p})
	}
	if len(violations) > 0 {
		return nil, apierr.InvalidArgument(violations)
	}
	for _, it := range items {
		if err := b.core.AuthorizePlanned(ctx, it.plan); err != nil {
			return nil, reindex(err, int(it.index))
		}
	}
	return items, nil
}

// fingerprint identifies a batch apart from its request_id; without one
// nothing compares it.
func fingerprint(req *directoryv1.BatchUpdateCompanyUsersRequest) string {
	if req.GetRequestId() == "" {
		return ""
	}
	c := proto.CloneOf(req)
	c.RequestId = ""
	bytes, _ := proto.MarshalOptions{Deterministic: true}.Marshal(c)
	sum := sha256.Sum256(bytes)
	return hex.EncodeToString(sum[:])
}

// chunks cuts the items into chunks of at most chunkSize, in user id
// order (the order the runner takes their locks in).
func (b *Batcher) chunks(name string, companyID int64, items []planned) ([]Chunk, error) {
	sorted := slices.Clone(items)
	slices.SortFunc(sorted, func(x, y planned) int { return compareInt64(x.req.GetId(), y.req.GetId()) })
	var out []Chunk
	for start := 0; start < len(sorted); start += b.chunkSize {
		part := sorted[start:min(start+b.chunkSize, len(sorted))]
		c := Chunk{Operation: name, Seq: len(out), CompanyID: companyID, Items: make([]Item, len(part))}
		for k, it := range part {
			enc, err := proto.MarshalOptions{Deterministic: true}.Marshal(it.req)
			if err != nil {
				return nil, err
			}
			c.Items[k] = Item{Index: it.index, Request: enc}
		}
		out = append(out, c)
	}
	return out, nil
}

func compareInt64(x, y int64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// enqueue pushes the operation's chunks: to the shared queue, or to this
// replica's memory queue when there is none or the caller's own Procore
// token carries the batch (it never leaves this process).
func (b *Batcher) enqueue(ctx context.Context, name string, companyID int64, items []planned) error {
	chunks, err := b.chunks(name, companyID, items)
	if err != nil {
		return err
	}
	caller, callID := b.core.AuditCaller(ctx), audit.CallID(ctx)
	for k := range chunks {
		chunks[k].Caller, chunks[k].CallID = caller, callID
	}
	token, passThrough := upstream.TokenFromContext(ctx)
	if b.shared != nil && !passThrough {
		return b.shared.Push(ctx, chunks)
	}
	b.remember(name, token)
	return b.local.Push(ctx, chunks)
}
