package service

import (
	"context"

	"google.golang.org/genproto/googleapis/rpc/errdetails"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service/apierr"
	"github.com/procore-directory/procore-directory/upstream"
)

// Operation names, as error messages start.
const (
	opGet    = "get company user"
	opUpdate = "update company user"
)

// msgUserRequired is the violation of an update without a user.
const msgUserRequired = "user is required: it carries the new values"

// update is one UpdateCompanyUser call on its way through the pipeline:
// the request, the patch planned from it, what the field rule decided, and
// the current record once some step has read it (so authorization and the
// fill share a single GET).
type update struct {
	req   *directoryv1.UpdateCompanyUserRequest
	patch upstream.Patch
	// plan is what the field rule decided about Procore's required and
	// admin-only fields (fieldrule.go).
	plan fieldPlan
	// current is the record as read from Procore, nil until read.
	current *upstream.User
	// idemKey is the idempotency store's key (caller scope and
	// request_id) once claimed.
	idemKey string
	// sent is set once a PATCH (or a batch's sync) carried the update;
	// upStatus and upRequestID are what Procore answered to it (audit.go).
	sent        bool
	upStatus    int
	upRequestID string
}

// UpdateCompanyUser implements AIP-134 Update: it sends Procore a PATCH that
// changes exactly the masked fields, then returns the updated user. It is
// one straight pipeline: plan, claim the request_id (a repeat is answered
// here), then, under the user's lock (write), authorize, complete the
// required fields, send (and reconcile an unknown outcome), convert;
// release the request_id with the answer. Every outcome but a replay's
// is written to the audit trail before it is returned (audit.go).
func (s *Service) UpdateCompanyUser(ctx context.Context, req *directoryv1.UpdateCompanyUserRequest) (*directoryv1.CompanyUser, error) {
	u, err := s.plan(ctx, req)
	if err != nil {
		s.audit(ctx, &update{req: req}, err) // refused before it was planned: no fields
		return nil, err
	}
	replay, claimed, err := s.claim(ctx, u) // idempotency.go
	if err != nil {
		s.audit(ctx, u, err)
		return nil, err
	}
	if replay != nil {
		return replay.user, replay.err
	}
	var user *directoryv1.CompanyUser
	if claimed {
		defer func() { s.release(ctx, u, user, err) }() // idempotency.go
	}
	user, err = s.write(ctx, u)
	s.audit(ctx, u, err) // audit.go: before the caller hears
	return user, err
}

// plan validates an update request and works out what to send, before
// anything goes upstream: the mask's fields (mask.go), the request's rules
// (validate.go), the patch (patch.go) and the field rule's plan
// (fieldrule.go). Every problem comes back as one INVALID_ARGUMENT.
func (s *Service) plan(ctx context.Context, req *directoryv1.UpdateCompanyUserRequest) (*update, error) {
	if req.GetUser() == nil {
		return nil, apierr.InvalidArgument([]*errdetails.BadRequest_FieldViolation{{
			Field: "user", Description: msgUserRequired, Reason: "REQUIRED",
		}})
	}
	fields, violations := s.fields.resolveMask(req.GetUpdateMask(), req.GetUser())
	if len(violations) > 0 {
		return nil, apierr.InvalidArgument(violations)
	}
	violations = s.validate.validateUpdate(req, fields)
	u := &update{req: req}
	var cleared []string
	u.patch, cleared = buildPatch(req.GetUser(), fields, s.clears)
	var refused []*errdetails.BadRequest_FieldViolation
	u.plan, refused = s.rule.plan(ctx, u, cleared, violations)
	if violations = append(violations, refused...); len(violations) > 0 {
		return nil, apierr.InvalidArgument(violations)
	}
	return u, nil
}

// write is the part of the pipeline that holds the user's lock.
func (s *Service) write(ctx context.Context, u *update) (*directoryv1.CompanyUser, error) {
	unlock, err := s.lockUser(ctx, u) // below
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := s.authorize(ctx, u); err != nil { // authorize.go
		return nil, err
	}
	if err := s.completeRequired(ctx, u); err != nil { // fieldrule.go
		return nil, err
	}
	user, err := s.send(ctx, u) // send.go (validateonly.go for validate_only)
	if err != nil {
		return nil, err
	}
	return s.conv.toProto(user), nil // convert.go
}

// writes reports whether the update sends Procore anything: some field, or
// an avatar. An update that writes nothing answers with the current record.
func (u *update) writes() bool {
	return u.patch.Len() > 0 || u.req.GetAvatar() != nil
}

// currentRecord returns the user as Procore has it now, reading it once per
// call.
func (s *Service) currentRecord(ctx context.Context, u *update) (*upstream.User, error) {
	if u.current != nil {
		return u.current, nil
	}
	cur, err := s.upstream.GetCompanyUser(ctx, u.req.GetCompanyId(), u.req.GetId())
	if err != nil {
		return nil, fromUpstream(ctx, opUpdate, err)
	}
	u.current = cur
	return cur, nil
}

// request is the upstream request of the update as planned so far: what
// send sends, and what a validate_only update describes.
func (u *update) request() upstream.UpdateRequest {
	return upstream.UpdateRequest{
		CompanyID:                  u.req.GetCompanyId(),
		UserID:                     u.req.GetId(),
		Patch:                      u.patch,
		RunConfigurableValidations: u.req.RunConfigurableValidations,
		Avatar:                     avatar(u.req.GetAvatar()),
	}
}

func avatar(a *directoryv1.AvatarUpload) *upstream.Avatar {
	if a == nil {
		return nil
	}
	return &upstream.Avatar{FileName: a.GetFileName(), ContentType: a.GetContentType(), Data: a.GetContent()}
}

// lockUser is the pipeline's serialisation step: an update that writes
// holds its (company, user) lock from before authorization reads the
// record to after the PATCH's outcome is known (reconciliation included).
// Procore's PATCH has no precondition, so without it a fill GET and its
// PATCH are not atomic: a non-admin's fill could put back an e-mail an
// admin just changed, and two callers writing different fields of a user
// could overwrite each other's required fields.
//
// It protects writes through this service only (through every replica
// only with a shared Locker): a writer outside it, such as Procore's own
// UI, can still change last_name or email_address between the fill GET and
// the PATCH, and the PATCH puts the value read back.
func (s *Service) lockUser(ctx context.Context, u *update) (unlock func(), err error) {
	if !u.writes() {
		return func() {}, nil
	}
	unlock, err = s.locks.Lock(ctx, lockKey(u.req.GetCompanyId(), u.req.GetId()))
	if err != nil {
		return nil, fromWait(ctx, opUpdate, err)
	}
	return unlock, nil
}
