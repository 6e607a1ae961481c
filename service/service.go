// Package service implements procore.directory.v1.DirectoryService: the
// update pipeline (plan, authorize, complete the required fields, send,
// convert), AIP-134 update masks, validation, the FieldMask-to-PATCH
// translation and the mapping of Procore's answers to gRPC statuses with
// standard error details.
//
// It is the core every transport shares, so it must not import net/http,
// Prometheus, OpenTelemetry or YAML: the gateway, telemetry, caller
// authentication and the policy file live in the sub-packages, and the
// Procore client behind the Upstream interface.
package service

import (
	"context"
	"fmt"
	"log/slog"

	"buf.build/go/protovalidate"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service/apierr"
	"github.com/procore-directory/procore-directory/service/state"
	"github.com/procore-directory/procore-directory/upstream"
)

// Upstream is what the service needs of Procore; *upstream.Client is the
// real one. It is an interface so tests can count and inspect calls. Its
// errors are the client's (*upstream.Error and context errors), never gRPC
// statuses: mapping them is this package's job (errors.go).
type Upstream interface {
	GetCompanyUser(ctx context.Context, companyID, userID int64) (*upstream.User, error)
	UpdateCompanyUser(ctx context.Context, req upstream.UpdateRequest) (*upstream.User, error)
}

// Service implements DirectoryService over an Upstream.
type Service struct {
	directoryv1.UnimplementedDirectoryServiceServer

	upstream Upstream
	fields   *userFields
	conv     *userConverter
	procore  procoreRules
	clears   clearing
	validate *validator
	required RequiredFieldsMode
	partial  PartialBodyMemory // what auto mode learned (partialbodies.go)
	log      *slog.Logger
	authz    Authorizer // nil: no authorization (authz.go)
	locks    state.Locker
	idem     state.IdempotencyStore // nil: request_id is ignored
	scope    func(context.Context) string
	observer Observer
}

// Option configures a Service.
type Option func(*Service)

// WithRequiredFields sets what an update does when its mask leaves out
// last_name or email_address; the default is RequiredFieldsAuto.
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

// WithLocker replaces the per-user write lock (lock.go); the default,
// state.MemoryLocker, serialises the writes of one process. A fleet of
// replicas needs a shared one.
func WithLocker(l state.Locker) Option {
	return func(s *Service) { s.locks = l }
}

// WithIdempotencyStore replaces where request_id answers are kept
// (idempotency.go); the default is a state.MemoryStore with its defaults.
func WithIdempotencyStore(st state.IdempotencyStore) Option {
	return func(s *Service) { s.idem = st }
}

// WithIdempotencyScope names the caller a request_id belongs to (the
// verified client identity, say), so that one caller's id never replays
// another's answer. The default scope is the pass-through Procore token's
// hash.
func WithIdempotencyScope(f func(context.Context) string) Option {
	return func(s *Service) {
		s.scope = func(ctx context.Context) string { return f(ctx) + "\x00" + defaultScope(ctx) }
	}
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
	conv, err := newUserConverter()
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
		conv:     conv,
		procore:  newProcoreRules(),
		validate: &validator{rules: rules, countries: upstream.NewISO3166()},
		required: RequiredFieldsAuto,
		partial:  NewPartialBodyMemory(0),
		log:      slog.New(slog.DiscardHandler),
		locks:    state.NewMemoryLocker(),
		scope:    defaultScope,
		observer: nopObserver{},
	}
	s.clears = newClearing(fields, s.validate)
	for _, o := range opts {
		o(s)
	}
	if s.idem == nil {
		if s.idem, err = state.NewMemoryStore(); err != nil {
			return nil, fmt.Errorf("service: %w", err)
		}
	}
	if _, err := ParseRequiredFieldsMode(s.required.String()); err != nil {
		return nil, fmt.Errorf("service: %w", err)
	}
	return s, nil
}

// GetCompanyUser implements AIP-131 Get.
func (s *Service) GetCompanyUser(ctx context.Context, req *directoryv1.GetCompanyUserRequest) (*directoryv1.CompanyUser, error) {
	if v := s.validate.validateGet(req); len(v) > 0 {
		return nil, apierr.InvalidArgument(v)
	}
	if err := s.authorizeRead(ctx, req.GetCompanyId()); err != nil {
		return nil, err
	}
	u, err := s.upstream.GetCompanyUser(ctx, req.GetCompanyId(), req.GetId())
	if err != nil {
		return nil, fromUpstream(ctx, opGet, err)
	}
	return s.conv.toProto(u), nil
}

// UpdateCompanyUser implements AIP-134 Update: it sends Procore a PATCH that
// changes exactly the masked fields, then returns the updated user. It is
// one straight pipeline: plan, claim the request_id (a repeat is answered
// here), then, under the user's lock, authorize, complete the required
// fields, send (and reconcile an unknown outcome), convert; release the
// request_id with the answer.
func (s *Service) UpdateCompanyUser(ctx context.Context, req *directoryv1.UpdateCompanyUserRequest) (*directoryv1.CompanyUser, error) {
	u, err := s.plan(ctx, req)
	if err != nil {
		return nil, err
	}
	replay, claimed, err := s.claim(ctx, u)
	if err != nil {
		return nil, err
	}
	if replay != nil {
		return replay.user, replay.err
	}
	var user *directoryv1.CompanyUser
	if claimed {
		defer func() { s.release(ctx, u, user, err) }()
	}
	user, err = s.write(ctx, u)
	return user, err
}

// write is the part of the pipeline that holds the user's lock.
func (s *Service) write(ctx context.Context, u *update) (*directoryv1.CompanyUser, error) {
	unlock, err := s.lockUser(ctx, u)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := s.authorize(ctx, u); err != nil {
		return nil, err
	}
	if err := s.completeRequired(ctx, u); err != nil {
		return nil, err
	}
	user, err := s.send(ctx, u)
	if err != nil {
		return nil, err
	}
	return s.conv.toProto(user), nil
}
