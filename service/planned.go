package service

import (
	"context"
	"slices"
	"strconv"

	"google.golang.org/protobuf/proto"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service/apierr"
	"github.com/procore-directory/procore-directory/upstream"
)

// Planned is one UpdateCompanyUserRequest taken through the single
// pipeline's plan step (validation, mask, translation, field rule), not
// yet sent: what the batch runner (service/batch) sends in a sync item or
// as a single PATCH. It exists so that a batch item is checked and
// translated by the very steps UpdateCompanyUser runs, never a copy of
// them.
type Planned struct{ u *update }

// PlanUpdate runs the single update's plan step on req: the same
// INVALID_ARGUMENT (with BadRequest paths relative to req) the single RPC
// would answer, or the plan. It sends nothing and claims no request_id.
func (s *Service) PlanUpdate(ctx context.Context, req *directoryv1.UpdateCompanyUserRequest) (*Planned, error) {
	u, err := s.plan(ctx, req)
	if err != nil {
		return nil, err
	}
	return &Planned{u: u}, nil
}

// AuthorizePlanned is the single update's authorization step on p, as
// UpdateCompanyUser runs it (the caller's company and the admin-only
// fields; one GET when the decision depends on whether email_address
// changes). It must run in the caller's context: the batch runs it at
// submission, since the runner no longer has the caller.
func (s *Service) AuthorizePlanned(ctx context.Context, p *Planned) error {
	if !p.u.writes() {
		return s.authorizeRead(ctx, p.u.req.GetCompanyId())
	}
	return s.authorize(ctx, p.u)
}

// Request is the upstream request the plan sends: the masked fields only,
// before any fill (a sync item needs no required field).
func (p *Planned) Request() upstream.UpdateRequest { return p.u.request() }

// Writes reports whether the update sends Procore anything.
func (p *Planned) Writes() bool { return p.u.writes() }

// UserID is the user the update changes.
func (p *Planned) UserID() int64 { return p.u.req.GetId() }

// SendPlanned is the single update's write path after authorization, for
// a caller that already holds the user's lock (LockUsers): the fill of the
// required fields, the PATCH (auto mode's second attempt, the read-back of
// an unknown outcome) and the conversion, with the single path's errors.
func (s *Service) SendPlanned(ctx context.Context, p *Planned) (*directoryv1.CompanyUser, error) {
	if err := s.completeRequired(ctx, p.u); err != nil {
		return nil, err
	}
	user, err := s.send(ctx, p.u)
	if err != nil {
		return nil, err
	}
	return s.conv.toProto(user), nil
}

// ReadBack settles an update whose outcome is unknown (sendErr, an
// *upstream.Error of KindOutcomeUnknown) as the single path does: the user
// read back with every sent field as sent is OK with that record; any
// different is ABORTED (UPSTREAM_NOT_APPLIED); unreadable is UNAVAILABLE
// (UPSTREAM_OUTCOME_UNKNOWN). A definite sendErr maps as the single path
// maps it. The caller holds the user's lock.
func (s *Service) ReadBack(ctx context.Context, p *Planned, sendErr error) (*directoryv1.CompanyUser, error) {
	user, err := s.reconcile(ctx, p.u, sendErr)
	if err != nil {
		return nil, err
	}
	return s.conv.toProto(user), nil
}

// SyncItemError is the status the single update would return for what a
// sync answer said of its item: Procore's field errors as INVALID_ARGUMENT
// with BadRequest on `user.<field>`, "not found" as NOT_FOUND, as
// fromUpstream maps a 422 or a 404 of the single PATCH.
func SyncItemError(ctx context.Context, r upstream.SyncItemResult) error {
	e := &upstream.Error{Op: opUpdate, Kind: upstream.KindStatus, StatusCode: http422,
		FieldErrors: r.FieldErrors, Message: r.Message}
	if r.NotFound {
		e.StatusCode, e.FieldErrors = http404, nil
	}
	return fromUpstream(ctx, opUpdate, e)
}

// http404 is Procore's "not found"; numbers, not net/http's names.
const http404 = 404

// MapUpstreamError maps an error of the Procore client as the single
// update maps it (errors.go), for work the batch runner does outside the
// pipeline (a whole sync refused).
func MapUpstreamError(ctx context.Context, err error) error { return fromUpstream(ctx, opUpdate, err) }

// CompanyUser converts Procore's user as the single update's answer is
// converted.
func (s *Service) CompanyUser(u *upstream.User) *directoryv1.CompanyUser { return s.conv.toProto(u) }

// LockUsers takes the per-user write locks of userIDs in companyID, the
// ones single updates take (lockUser), in ascending id order so that two
// holders of several locks never deadlock. unlock releases them all.
func (s *Service) LockUsers(ctx context.Context, companyID int64, userIDs []int64) (unlock func(), err error) {
	ids := slices.Clone(userIDs)
	slices.Sort(ids)
	unlocks := make([]func(), 0, len(ids))
	unlock = func() {
		for i := len(unlocks) - 1; i >= 0; i-- {
			unlocks[i]()
		}
	}
	for _, id := range ids {
		u, err := s.locks.Lock(ctx, lockKey(companyID, id))
		if err != nil {
			unlock()
			return nil, fromWait(ctx, opUpdate, err)
		}
		unlocks = append(unlocks, u)
	}
	return unlock, nil
}

// lockKey is the key of a user's write lock.
func lockKey(companyID, userID int64) string {
	return strconv.FormatInt(companyID, 10) + "/" + strconv.FormatInt(userID, 10)
}

// Scope is the caller scope of ctx, as request_id records are kept
// (WithIdempotencyScope): the batch keeps its operations in it.
func (s *Service) Scope(ctx context.Context) string { return s.scope(ctx) }

// CredentialKey names the Procore credential calls under ctx use: the
// pass-through token's hash, or "" for directoryd's own credential. What
// is learnt about a credential (sync refused) is kept under it.
func CredentialKey(ctx context.Context) string { return defaultScope(ctx) }

// CheckMessage applies the proto's rules (protovalidate) to msg as the
// single RPC applies them to its request: INVALID_ARGUMENT with BadRequest,
// or nil.
func (s *Service) CheckMessage(msg proto.Message) error {
	if v := s.validate.protoViolations(msg); len(v) > 0 {
		return apierr.InvalidArgument(v)
	}
	return nil
}

// AuditSending writes the write-ahead audit records of ps, about to be
// sent by one sync, as the single update writes its own before a PATCH
// (--audit-required): on an error (AUDIT_UNAVAILABLE) none may be sent.
func (s *Service) AuditSending(ctx context.Context, ps ...*Planned) error {
	us := make([]*update, len(ps))
	for i, p := range ps {
		us[i] = p.u
	}
	return s.auditSending(ctx, us...)
}

// MarkSent records that a batch's sync carried p, for p's audit event:
// what Procore answered to it (Procore's status and X-Request-Id) is
// err's when it is an *upstream.Error, else the last answer ctx's
// CallStats saw, as for a PATCH. A chunk an earlier runner may have sent
// is marked sent too (err: its unknown outcome): it was not "refused".
func (p *Planned) MarkSent(ctx context.Context, err error) { p.u.sentBy(ctx, err) }

// Audit writes p's audit event for the outcome err (nil: applied), as
// the single update writes its own; the batch calls it for each item's
// outcome, before the operation records it.
func (s *Service) Audit(ctx context.Context, p *Planned, err error) { s.audit(ctx, p.u, err) }

// AuditRequest writes the event of a batch item that no longer plans:
// refused, nothing sent.
func (s *Service) AuditRequest(ctx context.Context, req *directoryv1.UpdateCompanyUserRequest, err error) {
	s.audit(ctx, &update{req: req}, err)
}

// AuditCaller is the caller the audit trail names for ctx ("" without an
// Auditor): the batch keeps it with its chunks, since the runner no longer
// has the caller's context.
func (s *Service) AuditCaller(ctx context.Context) string {
	if s.auditor == nil {
		return ""
	}
	return s.auditor.Caller(ctx)
}
