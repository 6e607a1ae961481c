package service

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/procore-directory/procore-directory/service/apierr"
	"github.com/procore-directory/procore-directory/upstream"
)

// send is the step that writes: it sends the patch to Procore and returns
// the record it answers with. An update that writes nothing (an empty user
// without a mask, or a mask of output-only fields) answers with the
// current record, as an update that changes nothing would, without writing
// anything. A body Procore refuses for a required field the plan left to
// fill on refusal (auto mode) is completed and sent once more; an unknown
// outcome is read back (reconcile). Each PATCH is preceded by its
// write-ahead audit record (audit.go): none is sent without it.
func (s *Service) send(ctx context.Context, u *update) (*upstream.User, error) {
	if u.req.GetValidateOnly() {
		return s.validateOnly(ctx, u) // validateonly.go: described, not sent
	}
	if !u.writes() {
		return s.currentRecord(ctx, u)
	}
	if err := s.auditSending(ctx, u); err != nil {
		return nil, err
	}
	user, err := s.patch(ctx, u)
	if s.rule.refused(ctx, u, err) {
		u.patch = u.patch.Clone() // the refused request keeps its body
		if err := s.completeRequired(ctx, u); err != nil {
			return nil, err
		}
		if err := s.auditSending(ctx, u); err != nil {
			return nil, err
		}
		user, err = s.patch(ctx, u)
	}
	if err != nil {
		// A definite failure maps as it is; an unknown outcome is read
		// back. A refusal for a withheld field says why it was not sent.
		user, err = s.reconcile(ctx, u, err)
		return user, u.plan.explain(err)
	}
	return user, nil
}

// patch sends one PATCH of the update as planned so far.
func (s *Service) patch(ctx context.Context, u *update) (*upstream.User, error) {
	user, err := s.upstream.UpdateCompanyUser(ctx, u.request())
	u.sentBy(ctx, err) // audit.go
	return user, err
}

// notAppliedRetryDelay is the RetryInfo of UPSTREAM_NOT_APPLIED: the
// failure was Procore's and transient, a retry is safe at once; a short
// delay spreads retries of many callers.
const notAppliedRetryDelay = 1e9 // 1 s, as a time.Duration

// reconcile is the step after a PATCH whose outcome is unknown (a 5xx but
// 503, a reset after sending, an unreadable 2xx): it reads the user back
// once, within the caller's deadline, and compares every field the PATCH
// sent. All equal: the user is in the requested state, and the caller gets
// OK with that record. Any different: the PATCH was not applied (or was
// overwritten, which only a writer outside this service can do: the user's
// lock is held), so ABORTED with UPSTREAM_NOT_APPLIED and RetryInfo. An
// avatar cannot be compared (Procore answers a signed URL, not the image),
// and a read-back that fails proves nothing: UPSTREAM_OUTCOME_UNKNOWN.
//
// The window left: a PATCH still queued inside Procore that applies after
// the read-back. The caller is told NOT_APPLIED, retries, and the retry
// writes the same values again.
func (s *Service) reconcile(ctx context.Context, u *update, patchErr error) (*upstream.User, error) {
	var uerr *upstream.Error
	if !errors.As(patchErr, &uerr) || uerr.Kind != upstream.KindOutcomeUnknown {
		return nil, fromUpstream(ctx, opUpdate, patchErr)
	}
	if u.req.GetAvatar() != nil || ctx.Err() != nil {
		s.observer.Reconciled(apierr.OutcomeUnknown)
		return nil, fromUpstream(ctx, opUpdate, patchErr)
	}
	cur, err := s.upstream.GetCompanyUser(ctx, u.req.GetCompanyId(), u.req.GetId())
	if err != nil {
		s.observer.Reconciled(apierr.OutcomeUnknown)
		return nil, fromUpstream(ctx, opUpdate, patchErr)
	}
	if differs := s.unapplied(u, cur); len(differs) > 0 {
		s.observer.Reconciled(apierr.OutcomeNotApplied)
		return nil, notApplied(uerr, differs)
	}
	s.observer.Reconciled(apierr.OutcomeApplied)
	return cur, nil
}

// unapplied names the fields the PATCH sent whose value the record read
// back does not have. A cleared field reads back as null or as "".
func (s *Service) unapplied(u *update, cur *upstream.User) []string {
	var out []string
	for _, name := range u.patch.Fields() {
		want, _ := u.patch.Value(name)
		f, ok := s.byName[name]
		if !ok {
			out = append(out, name) // cannot compare: do not claim it applied
			continue
		}
		got := f.Value(cur)
		if got == want || (want.IsNull() && got.Kind() == upstream.KindString && got.Str() == "") {
			continue
		}
		out = append(out, name)
	}
	return out
}

// msgNotApplied is UPSTREAM_NOT_APPLIED's message, after the operation.
const msgNotApplied = "Procore's answer was lost, and reading the user back shows the update was not applied; it is safe to retry"

// notApplied is ABORTED: the read-back proved the PATCH was not applied,
// so a retry is safe. It names the fields, never their values.
func notApplied(uerr *upstream.Error, fields []string) error {
	meta := map[string]string{"outcome": apierr.OutcomeNotApplied, "fields_differing": strings.Join(fields, ",")}
	if uerr.StatusCode != 0 {
		meta["upstream_status"] = strconv.Itoa(uerr.StatusCode)
	}
	if uerr.RequestID != "" {
		meta["upstream_request_id"] = uerr.RequestID
	}
	return apierr.New(codes.Aborted, apierr.ReasonUpstreamNotApplied, opUpdate+": "+msgNotApplied, meta, &errdetails.RetryInfo{RetryDelay: durationpb.New(notAppliedRetryDelay)})
}
