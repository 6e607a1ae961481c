package server

import (
	"context"
	"log/slog"

	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/service/auth"
	"github.com/procore-directory/procore-directory/service/state"
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
	}
	opts = append(opts, service.WithIdempotencyStore(store))
	if cfg.Locker != nil {
		opts = append(opts, service.WithLocker(cfg.Locker))
	}
	if cfg.Telemetry != nil {
		opts = append(opts, service.WithObserver(cfg.Telemetry.Metrics))
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
