// Package service implements procore.directory.v1.DirectoryService: it
// validates requests, translates AIP-134 update masks into Procore PATCH
// bodies that change exactly the masked fields, and maps Procore's answers
// and failures to gRPC statuses with standard error details.
package service

import (
	"context"
	"fmt"
	"log/slog"

	"buf.build/go/protovalidate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/upstream"
)

// Upstream is what the service needs of Procore; *upstream.Client is the
// real one. It is an interface so tests can count and inspect calls.
type Upstream interface {
	GetCompanyUser(ctx context.Context, companyID, userID int64) (*upstream.User, error)
	UpdateCompanyUser(ctx context.Context, req upstream.UpdateRequest) (*upstream.User, error)
}

// Service implements DirectoryService over an Upstream.
type Service struct {
	directoryv1.UnimplementedDirectoryServiceServer

	upstream Upstream
	fields   *userFields
	validate *validator
	required RequiredFieldsMode
	log      *slog.Logger
	authz    Authorizer // nil: no authorization (authz.go)
}

// Option configures a Service.
type Option func(*Service)

// WithRequiredFields sets what an update does when its mask leaves out
// last_name or email_address; the default is RequiredFieldsFill.
func WithRequiredFields(m RequiredFieldsMode) Option {
	return func(s *Service) { s.required = m }
}

// WithSubdivisionChecker replaces the ISO 3166 checks of country_code and
// state_code (by default *upstream.ISO3166, the data the emulator uses too).
func WithSubdivisionChecker(c SubdivisionChecker) Option {
	return func(s *Service) { s.validate.countries = c }
}

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option {
	return func(s *Service) { s.log = l }
}

// New returns a Service that calls up.
func New(up Upstream, opts ...Option) (*Service, error) {
	if up == nil {
		return nil, fmt.Errorf("service: nil upstream")
	}
	fields, err := newUserFields()
	if err != nil {
		return nil, err
	}
	rules, err := protovalidate.New()
	if err != nil {
		return nil, fmt.Errorf("service: protovalidate: %w", err)
	}
	s := &Service{
		upstream: up,
		fields:   fields,
		validate: &validator{rules: rules, countries: upstream.NewISO3166()},
		required: RequiredFieldsFill,
		log:      slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		o(s)
	}
	if _, err := ParseRequiredFieldsMode(s.required.String()); err != nil {
		return nil, fmt.Errorf("service: %w", err)
	}
	return s, nil
}

// GetCompanyUser implements AIP-131 Get.
func (s *Service) GetCompanyUser(ctx context.Context, req *directoryv1.GetCompanyUserRequest) (*directoryv1.CompanyUser, error) {
	if v := s.validate.validateGet(req); len(v) > 0 {
		return nil, invalidArgument(v)
	}
	if err := s.authorizeRead(ctx, req.GetCompanyId()); err != nil {
		return nil, err
	}
	u, err := s.upstream.GetCompanyUser(ctx, req.GetCompanyId(), req.GetId())
	if err != nil {
		return nil, fromUpstream(ctx, "get company user", err)
	}
	return toProto(u), nil
}

// UpdateCompanyUser implements AIP-134 Update: it sends Procore a PATCH that
// changes exactly the masked fields, then returns the updated user.
func (s *Service) UpdateCompanyUser(ctx context.Context, req *directoryv1.UpdateCompanyUserRequest) (*directoryv1.CompanyUser, error) {
	patch, err := s.plan(req)
	if err != nil {
		return nil, err
	}
	checkEmail, err := s.authorizeUpdate(ctx, req, &patch)
	if err != nil {
		return nil, err
	}
	const op = "update company user"
	if patch.Len() == 0 && req.GetAvatar() == nil {
		// Nothing to change (an empty user without a mask, or a mask of
		// output-only fields): answer with the current record, as an update
		// that changes nothing would, without writing anything.
		u, err := s.upstream.GetCompanyUser(ctx, req.GetCompanyId(), req.GetId())
		if err != nil {
			return nil, fromUpstream(ctx, op, err)
		}
		return toProto(u), nil
	}
	var current *upstream.User
	if missing := missingRequired(&patch); len(missing) > 0 && s.required == RequiredFieldsFill {
		current, err = s.upstream.GetCompanyUser(ctx, req.GetCompanyId(), req.GetId())
		if err != nil {
			return nil, fromUpstream(ctx, op, err)
		}
		fillRequired(&patch, current, missing)
	}
	if checkEmail { // a caller without admin rights sends email_address: only unchanged
		if current == nil {
			if current, err = s.upstream.GetCompanyUser(ctx, req.GetCompanyId(), req.GetId()); err != nil {
				return nil, fromUpstream(ctx, op, err)
			}
		}
		if err := deniedEmail(&patch, current); err != nil {
			return nil, err
		}
	}
	u, err := s.upstream.UpdateCompanyUser(ctx, upstream.UpdateRequest{
		CompanyID:                  req.GetCompanyId(),
		UserID:                     req.GetId(),
		Patch:                      patch,
		RunConfigurableValidations: req.RunConfigurableValidations,
		Avatar:                     avatar(req.GetAvatar()),
	})
	if err != nil {
		return nil, fromUpstream(ctx, op, err)
	}
	return toProto(u), nil
}

// plan validates an update request and returns the patch to send, before
// anything goes upstream. Every problem comes back as one INVALID_ARGUMENT.
func (s *Service) plan(req *directoryv1.UpdateCompanyUserRequest) (upstream.Patch, error) {
	if req.GetUser() == nil {
		return upstream.Patch{}, invalidArgument([]*errdetails.BadRequest_FieldViolation{{
			Field: "user", Description: "user is required: it carries the new values", Reason: "REQUIRED",
		}})
	}
	fields, violations := s.fields.resolveMask(req.GetUpdateMask(), req.GetUser())
	if len(violations) > 0 {
		return upstream.Patch{}, invalidArgument(violations)
	}
	violations = s.validate.validateUpdate(req, fields)
	patch, clearViolations := buildPatch(req.GetUser(), fields)
	violations = append(violations, clearViolations...)
	if missing := missingRequired(&patch); len(missing) > 0 && s.required == RequiredFieldsReject && (patch.Len() > 0 || req.GetAvatar() != nil) {
		for _, name := range missing {
			if !hasViolation(violations, "user."+name) {
				violations = append(violations, &errdetails.BadRequest_FieldViolation{
					Field:       "update_mask",
					Description: fmt.Sprintf("must include %s: Procore requires it in every update (this server runs with --required-fields=reject)", name),
					Reason:      "REQUIRED_FIELD_NOT_MASKED",
				})
			}
		}
	}
	if len(violations) > 0 {
		return upstream.Patch{}, invalidArgument(violations)
	}
	return patch, nil
}

func avatar(a *directoryv1.AvatarUpload) *upstream.Avatar {
	if a == nil {
		return nil
	}
	return &upstream.Avatar{FileName: a.GetFileName(), ContentType: a.GetContentType(), Data: a.GetContent()}
}
