package server

import (
	"context"
	"log/slog"

	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/service/auth"
	"github.com/procore-directory/procore-directory/service/state"
	"github.com/procore-directory/procore-directory/service/state/redisstate"
	"github.com/procore-directory/procore-directory/upstream"
	"github.com/procore-directory/procore-directory/upstream/admission"
	"github.com/procore-directory/procore-directory/upstream/admission/redisbudget"
)

// serviceOptions are the core's options cfg describes: the required-fields
// mode, the authorizer, and the shared state of the update pipeline (the
// per-user lock, the request_id store scoped to the verified caller, and
// the metrics of outcomes).
func (cfg *Config) serviceOptions(log *slog.Logger) ([]service.Option, error) {
	opts := []service.Option{service.WithRequiredFields(cfg.RequiredFields), service.WithAdminFields(cfg.AdminFields), service.WithLogger(log),
		service.WithIdempotencyScope(callerScope)}
	if cfg.Authorizer != nil {
		opts = append(opts, service.WithAuthorizer(cfg.Authorizer))
	}
	store := cfg.IdempotencyStore
	if store == nil {
		mem, err := state.NewMemoryStore(state.WithRetention(cfg.IdempotencyRetention), state.WithMaxKeys(cfg.IdempotencyMaxKeys))
		if err != nil {
			return nil, err
		}
		store = mem
		if conn := cfg.SharedState; conn != nil {
			store = redisstate.NewIdempotencyStore(conn, mem, cfg.IdempotencyRetention,
				redisstate.WithClaimLease(max(redisstate.DefaultClaimLease, 2*cfg.Limits.CallTimeout)))
		}
	}
	opts = append(opts, service.WithIdempotencyStore(store))
	locker := cfg.Locker
	if locker == nil && cfg.SharedState != nil {
		locker = redisstate.NewLocker(cfg.SharedState)
	}
	if locker != nil {
		opts = append(opts, service.WithLocker(locker))
	}
	partial := cfg.PartialBodies
	if partial == nil && cfg.SharedState != nil {
		partial = redisstate.NewPartialBodies(cfg.SharedState, service.NewPartialBodyMemory(0))
	}
	if partial != nil {
		opts = append(opts, service.WithPartialBodyMemory(partial))
	}
	if cfg.Telemetry != nil {
		opts = append(opts, service.WithObserver(cfg.Telemetry.Metrics))
	}
	if rec := cfg.auditor(log); rec != nil {
		opts = append(opts, service.WithAuditor(rec))
	}
	return opts, nil
}

// callerScope is the verified caller (mutual TLS), so that one caller's
// request_id never replays another's answer.
func callerScope(ctx context.Context) string {
	if c, ok := auth.CallerFromContext(ctx); ok {
		return "caller:" + c.ID
	}
	return ""
}

// sharedBudgets is the Procore client's option that takes every
// credential's rate budget from the fleet's (none without SharedState).
func (cfg *Config) sharedBudgets() []upstream.Option {
	conn := cfg.SharedState
	if conn == nil {
		return nil
	}
	burst := cfg.PacingBurst
	return []upstream.Option{upstream.WithSharedBudgets(func(local *admission.Limits) admission.Budgets {
		return redisbudget.New(conn, local, burst)
	})}
}

// readinessDetail is the shared state's line in /readyz (nil without it).
func (cfg *Config) readinessDetail() func() string {
	if cfg.SharedState == nil {
		return nil
	}
	return cfg.SharedState.Status
}
