package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/procore-directory/procore-directory/service/server"
	"github.com/procore-directory/procore-directory/service/state"
	"github.com/procore-directory/procore-directory/service/state/redisstate"
	"github.com/procore-directory/procore-directory/service/telemetry"
)

// StateConfig bounds the update pipeline's in-memory state (the request_id
// records), and says where the fleet shares its state (Redis).
type StateConfig struct {
	// IdempotencyRetention is how long a request_id's answer is kept.
	IdempotencyRetention time.Duration
	// IdempotencyMaxKeys bounds the records held (and so the memory).
	IdempotencyMaxKeys int
	// RedisURL is the fleet's shared state; empty: in-process state.
	RedisURL string
	// RedisTimeout bounds each Redis read and write, and a probe; a probe
	// slower than this turns the replica local (degraded) until one passes.
	RedisTimeout time.Duration
	// RedisPassword, from DIRECTORYD_REDIS_PASSWORD (never a flag, so it
	// does not show in a process listing), is used when the URL has none.
	RedisPassword string
}

func (s *StateConfig) register(fs *flag.FlagSet) {
	fs.DurationVar(&s.IdempotencyRetention, "idempotency-retention", state.DefaultRetention, "how long the answer of an update with a request_id (Idempotency-Key) is kept for its retries")
	fs.IntVar(&s.IdempotencyMaxKeys, "idempotency-max-keys", state.DefaultMaxKeys, "request_id records kept at most (about 2 KiB each); the oldest answered ones are forgotten first")
	fs.DurationVar(&s.RedisTimeout, "redis-timeout", redisstate.DefaultTimeout, "with --redis-url: the longest a Redis read, write or probe may take; a probe slower than this serves with local state until one passes (raise it on a host short of CPU)")
	fs.StringVar(&s.RedisURL, "redis-url", "", "share Procore's rate budget, request_id records, per-user write locks and what is learned about Procore with the other replicas through this Redis: redis://host:6379/0, rediss:// for TLS; the password from the URL or DIRECTORYD_REDIS_PASSWORD; empty: in-process state")
}

func (s *StateConfig) validate() error {
	switch {
	case s.IdempotencyRetention <= 0:
		return errors.New("--idempotency-retention must be positive")
	case s.IdempotencyMaxKeys <= 0:
		return errors.New("--idempotency-max-keys must be positive")
	case s.RedisTimeout <= 0:
		return errors.New("--redis-timeout must be positive")
	}
	if s.RedisURL != "" {
		if _, err := redisstate.ParseURL(s.RedisURL); err != nil {
			return fmt.Errorf("--redis-url: %w", err)
		}
	} else if s.RedisPassword != "" {
		return errors.New("DIRECTORYD_REDIS_PASSWORD applies only with --redis-url")
	}
	return nil
}

// openShared connects to the fleet's shared state, if configured, with
// its metric and log; Redis need not be up yet (the replica starts
// degraded). close is a no-op without it.
func (s *StateConfig) openShared(ctx context.Context, tel *telemetry.Telemetry, log *slog.Logger) (*redisstate.Conn, func(), error) {
	if s.RedisURL == "" {
		return nil, func() {}, nil
	}
	opts := []redisstate.Option{redisstate.WithPassword(s.RedisPassword), redisstate.WithLogger(log), redisstate.WithTimeout(s.RedisTimeout)}
	if tel != nil {
		set, err := tel.SharedStateGauge()
		if err != nil {
			return nil, nil, err
		}
		opts = append(opts, redisstate.WithStateChange(set))
	}
	conn, err := redisstate.Open(ctx, s.RedisURL, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("--redis-url: %w", err)
	}
	return conn, func() { _ = conn.Close() }, nil
}

func (s *StateConfig) apply(sc *server.Config) {
	sc.IdempotencyRetention = s.IdempotencyRetention
	sc.IdempotencyMaxKeys = s.IdempotencyMaxKeys
}

// DefaultShutdownTimeout is --shutdown-timeout's default: longer than the
// longest call (--call-timeout's default, 30 s, which bounds every upstream
// call and its retries), so that a default stop lets every call in flight
// finish with Procore's answer. Kubernetes' terminationGracePeriodSeconds
// must exceed it plus the answer grace (1 s) and any preStop delay.
const DefaultShutdownTimeout = server.DefaultCallTimeout + 5*time.Second
