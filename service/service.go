// Package service implements procore.directory.v1.DirectoryService. Its one
// job is the update pipeline: from an UpdateCompanyUserRequest to the one
// Procore PATCH that changes exactly the masked fields, and from Procore's
// answer back to a CompanyUser or a gRPC status with standard error
// details. UpdateCompanyUser (update.go) is the table of contents; each
// step it names lives in a file named for it:
//
//	update.go        UpdateCompanyUser, plan and write, in order; the user's write lock
//	mask.go          the update mask (AIP-134, AIP-161)
//	validate.go      the request's own rules (protovalidate, ISO codes, avatar)
//	patch.go         the mask-to-PATCH translation and its clear values
//	fieldrule.go     Procore's required and admin-only fields: the plan, the fill, and
//	                 what --required-fields=auto learned per company
//	idempotency.go   request_id: claim and release (AIP-155)
//	authorize.go     the caller's company and the admin-only fields
//	send.go          the PATCH, auto mode's second attempt, the read-back of an unknown outcome
//	validateonly.go  the send step of a validate_only update (AIP-163)
//	convert.go       Procore's user to CompanyUser
//	errors.go        Procore's and the waits' failures to gRPC statuses
//	planned.go       the same steps one at a time, for the batch runner (service/batch)
//	audit.go         the audit event of each write outcome, before the caller hears it
//
// It is the core every transport shares, so it must not import net/http,
// Prometheus, OpenTelemetry or YAML itself, nor the packages that build on
// it: service/batch, service/gateway, service/server and service/telemetry (which
// implements Observer without importing this package). The error
// vocabulary is service/apierr's; Procore is behind the Upstream interface.
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

// Observer hears the service's decisions that metrics count: how read-back
// reconciliation ended, and idempotent replays. It is an interface so that
// this package stays free of Prometheus (service/telemetry implements it).
// Its methods must be cheap and safe for concurrent use.
type Observer interface {
	// Reconciled is called once per PATCH whose outcome was unknown, with
	// apierr.OutcomeApplied, apierr.OutcomeNotApplied or
	// apierr.OutcomeUnknown.
	Reconciled(result string)
	// IdempotentReplay is called when a repeated request_id is answered
	// with the first call's answer, nothing sent upstream.
	IdempotentReplay()
}

// nopObserver is the default Observer.
type nopObserver struct{}

func (nopObserver) Reconciled(string) {}
func (nopObserver) IdempotentReplay() {}

// Service implements DirectoryService over an Upstream.
type Service struct {
	directoryv1.UnimplementedDirectoryServiceServer

	upstream Upstream
	fields   *userFields
	conv     *userConverter
	clears   clearing
	validate *validator
	rule     fieldRule                 // required and admin-only fields (fieldrule.go)
	byName   map[string]upstream.Field // every Procore field, to compare a read-back (send.go)
	log      *slog.Logger
	authz    Authorizer // nil: no authorization (authorize.go)
	locks    state.Locker
	idem     state.IdempotencyStore // nil: request_id is ignored
	scope    func(context.Context) string
	observer Observer
	auditor  Auditor // nil: no audit trail (audit.go)
}

// Option configures a Service.
type Option func(*Service)

// WithSubdivisionChecker replaces the ISO 3166 checks of country_code and
// state_code (by default *upstream.ISO3166, the data the emulator uses too).
func WithSubdivisionChecker(c SubdivisionChecker) Option {
	return func(s *Service) { s.validate.countries = c }
}

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option {
	return func(s *Service) { s.log = l }
}

// WithLocker replaces the per-user write lock (lockUser); the default,
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

// WithObserver sets the Observer; the default counts nothing.
func WithObserver(o Observer) Option {
	return func(s *Service) {
		if o != nil {
			s.observer = o
		}
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
		validate: &validator{rules: rules, countries: upstream.NewISO3166()},
		rule:     newFieldRule(),
		byName:   make(map[string]upstream.Field),
		log:      slog.New(slog.DiscardHandler),
		locks:    state.NewMemoryLocker(),
		scope:    defaultScope,
		observer: nopObserver{},
	}
	for _, f := range upstream.Fields() {
		s.byName[f.Name] = f
	}
	if s.clears, err = newClearing(fields, s.validate); err != nil {
		return nil, err
	}
	for _, o := range opts {
		o(s)
	}
	s.rule.authorizes = s.authz != nil
	if s.idem == nil {
		if s.idem, err = state.NewMemoryStore(); err != nil {
			return nil, fmt.Errorf("service: %w", err)
		}
	}
	if _, err := ParseRequiredFieldsMode(s.rule.mode.String()); err != nil {
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
