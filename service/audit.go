package service

import (
	"context"
	"errors"
	"slices"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"

	"github.com/procore-directory/procore-directory/service/apierr"
	"github.com/procore-directory/procore-directory/service/audit"
	"github.com/procore-directory/procore-directory/upstream"
)

// Auditor writes the trail of every write outcome (service/audit): one
// event per outcome, before the caller is told it, and with
// --audit-required a write-ahead record before each request is sent.
// *audit.Recorder is the real one.
type Auditor interface {
	// Sending writes the write-ahead records of requests about to be
	// sent; an error (AUDIT_UNAVAILABLE) means they must not be.
	Sending(ctx context.Context, op string, events ...audit.Event) error
	// Record completes events from ctx and writes them to every sink.
	Record(ctx context.Context, events ...audit.Event) error
	// Caller is the caller ctx's events name.
	Caller(ctx context.Context) string
}

// WithAuditor sets the Auditor; by default no event is written.
func WithAuditor(a Auditor) Option { return func(s *Service) { s.auditor = a } }

// auditSending writes the write-ahead record of each of us, about to be
// sent: nothing may be sent if it returns an error (AUDIT_UNAVAILABLE).
func (s *Service) auditSending(ctx context.Context, us ...*update) error {
	if s.auditor == nil {
		return nil
	}
	events := make([]audit.Event, len(us))
	for i, u := range us {
		events[i] = u.event()
	}
	return s.auditor.Sending(ctx, opUpdate, events...)
}

// event is u's event, before its outcome is known.
func (u *update) event() audit.Event {
	return audit.Event{
		CompanyID: u.req.GetCompanyId(),
		UserID:    u.req.GetId(),
		Fields:    u.sentFields(),
		RequestID: u.req.GetRequestId(),
	}
}

// sentBy remembers whether the PATCH (or sync) that carried u left for
// Procore, and what settled it: Procore's status and X-Request-Id, from
// its error or, when it answered, from the call's CallStats. A request
// the client refused before sending any attempt (admission, the breaker,
// no credential) was not sent; an outcome that is unknown (a chunk an
// earlier runner may have sent too) was.
func (u *update) sentBy(ctx context.Context, err error) {
	var uerr *upstream.Error
	switch {
	case errors.As(err, &uerr):
		if uerr.Attempts > 0 || uerr.Kind == upstream.KindOutcomeUnknown {
			u.sent = true
			u.upStatus, u.upRequestID = uerr.StatusCode, uerr.RequestID
		}
	case err == nil:
		u.sent = true
		if st := upstream.CallStatsFrom(ctx); st != nil {
			u.upStatus, u.upRequestID = st.StatusCode(), st.RequestID()
		}
	default:
		u.sent = true // not the client's error: it cannot say, so assume it left
	}
}

// audit writes u's event for the outcome err (nil: applied). A
// validate_only update writes none, nor one that writes nothing and
// succeeded (nothing was asked of Procore).
func (s *Service) audit(ctx context.Context, u *update, err error) {
	if s.auditor == nil || u.req.GetValidateOnly() || (err == nil && !u.writes()) {
		return
	}
	e := u.event()
	e.Outcome = outcomeOf(u.sent, err)
	e.UpstreamStatus, e.UpstreamRequestID = u.upStatus, u.upRequestID
	e.Code, e.Reason = codeAndReason(err)
	_ = s.auditor.Record(ctx, e) // a sink that failed counted and logged it
}

// sentFields are the sorted names of the fields the update sends (or
// sent): the patch's, and avatar.
func (u *update) sentFields() []string {
	out := u.patch.Fields()
	if u.req.GetAvatar() != nil {
		out = append(out, "avatar")
	}
	slices.Sort(out)
	return out
}

// outcomeOf is the event's outcome: refused when nothing was sent,
// applied for no error, unknown when the error says the outcome is
// unknown, else not_applied: something was sent and certainly not
// applied (Procore refused it, a read-back proved it, or a retry of a
// request Procore did not apply was refused before it was sent).
func outcomeOf(sent bool, err error) string {
	switch {
	case err == nil:
		return audit.OutcomeApplied
	case !sent:
		return audit.OutcomeRefused
	}
	info := errorInfo(err)
	if info.GetMetadata()["outcome"] == apierr.OutcomeUnknown || info.GetReason() == apierr.ReasonUpstreamOutcomeUnknown {
		return audit.OutcomeUnknown
	}
	return audit.OutcomeNotApplied
}

// codeAndReason are the gRPC code and ErrorInfo reason the caller is given.
func codeAndReason(err error) (code, reason string) {
	return status.Code(err).String(), errorInfo(err).GetReason()
}

// errorInfo is err's google.rpc.ErrorInfo, or nil.
func errorInfo(err error) *errdetails.ErrorInfo {
	st, ok := status.FromError(err)
	if !ok {
		return nil
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info
		}
	}
	return nil
}
