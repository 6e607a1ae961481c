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

// update is one UpdateCompanyUser call on its way through the pipeline:
// the request, the patch planned from it, which required fields the
// configured mode fills, and the current record once some step has read it
// (so authorization and filling share a single GET).
type update struct {
	req   *directoryv1.UpdateCompanyUserRequest
	patch upstream.Patch
	// required is what the required-fields rule decided: the fields to
	// fill, to fill if Procore refuses the body, and to withhold
	// (RequiredFieldsMode.rule).
	required requiredPlan
	// current is the record as read from Procore, nil until read.
	current *upstream.User
	// idemKey is the idempotency store's key (caller scope and
	// request_id) once claimed.
	idemKey string
}

// plan validates an update request and works out the patch to send, before
// anything goes upstream. Every problem comes back as one INVALID_ARGUMENT.
func (s *Service) plan(ctx context.Context, req *directoryv1.UpdateCompanyUserRequest) (*update, error) {
	if req.GetUser() == nil {
		return nil, apierr.InvalidArgument([]*errdetails.BadRequest_FieldViolation{{
			Field: "user", Description: "user is required: it carries the new values", Reason: "REQUIRED",
		}})
	}
	fields, violations := s.fields.resolveMask(req.GetUpdateMask(), req.GetUser())
	if len(violations) > 0 {
		return nil, apierr.InvalidArgument(violations)
	}
	violations = s.validate.validateUpdate(req, fields)
	u := &update{req: req}
	u.patch, violations = buildPatch(req.GetUser(), fields, s.procore, s.clears, violations)
	var required []*errdetails.BadRequest_FieldViolation
	u.required, required = s.required.rule(s.procore, &u.patch, u.writes(), violations,
		func() bool { return s.partial.RefusesPartial(ctx, req.GetCompanyId()) })
	if violations = append(violations, required...); len(violations) > 0 {
		return nil, apierr.InvalidArgument(violations)
	}
	return u, nil
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

// completeRequired copies the required fields the mode fills from the
// current record into the patch, unchanged. A field the record does not
// have is left out (sending null would clear it).
func (s *Service) completeRequired(ctx context.Context, u *update) error {
	if len(u.required.fill) == 0 || !u.writes() {
		return nil
	}
	cur, err := s.currentRecord(ctx, u)
	if err != nil {
		return err
	}
	for _, f := range u.required.fill {
		if v := f.Value(cur); !v.IsNull() {
			u.patch.Set(f.Name, v)
		}
	}
	return nil
}

// send writes the patch to Procore and returns the record it answers with.
// An update that writes nothing (an empty user without a mask, or a mask of
// output-only fields) answers with the current record, as an update that
// changes nothing would, without writing anything. In auto mode, a body
// Procore refuses for a required field left out is completed and sent once
// more, and the company remembered.
func (s *Service) send(ctx context.Context, u *update) (*upstream.User, error) {
	if u.req.GetValidateOnly() {
		return s.validateOnly(ctx, u) // validateonly.go: described, not sent
	}
	if !u.writes() {
		return s.currentRecord(ctx, u)
	}
	user, err := s.patch(ctx, u)
	if refusedForMissing(err, u.required.onRefusal) {
		s.partial.RememberRefusesPartial(ctx, u.req.GetCompanyId())
		u.required.fill, u.required.onRefusal = u.required.onRefusal, nil
		u.patch = u.patch.Clone() // the refused request keeps its body
		if err := s.completeRequired(ctx, u); err != nil {
			return nil, err
		}
		user, err = s.patch(ctx, u)
	}
	if err != nil {
		// A definite failure maps as it is; an unknown outcome is read back
		// (reconcile.go). A refusal for a withheld field says why it was not
		// sent.
		user, err = s.reconcile(ctx, u, err)
		return user, explainWithheld(err, u.required.withheld)
	}
	return user, nil
}

// patch sends one PATCH of the update as planned so far.
func (s *Service) patch(ctx context.Context, u *update) (*upstream.User, error) {
	return s.upstream.UpdateCompanyUser(ctx, u.request())
}

// request is the upstream request of the update as planned so far: what
// patch sends, and what a validate_only update describes.
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
