package main

import (
	"errors"
	"flag"
	"time"

	"github.com/procore-directory/procore-directory/service/server"
	"github.com/procore-directory/procore-directory/service/state"
)

// StateConfig bounds the update pipeline's in-memory state: the request_id
// (idempotency) records.
type StateConfig struct {
	// IdempotencyRetention is how long a request_id's answer is kept.
	IdempotencyRetention time.Duration
	// IdempotencyMaxKeys bounds the records held (and so the memory).
	IdempotencyMaxKeys int
}

func (s *StateConfig) register(fs *flag.FlagSet) {
	fs.DurationVar(&s.IdempotencyRetention, "idempotency-retention", state.DefaultRetention, "how long the answer of an update with a request_id (Idempotency-Key) is kept for its retries")
	fs.IntVar(&s.IdempotencyMaxKeys, "idempotency-max-keys", state.DefaultMaxKeys, "request_id records kept at most (about 2 KiB each); the oldest answered ones are forgotten first")
}

func (s *StateConfig) validate() error {
	switch {
	case s.IdempotencyRetention <= 0:
		return errors.New("--idempotency-retention must be positive")
	case s.IdempotencyMaxKeys <= 0:
		return errors.New("--idempotency-max-keys must be positive")
	}
	return nil
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
