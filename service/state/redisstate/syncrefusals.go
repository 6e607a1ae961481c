package redisstate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
)

// LocalSyncRefusals is the in-process memory the shared one caches in and
// falls back to (service/batch.NewSyncRefusals').
type LocalSyncRefusals interface {
	Refused(ctx context.Context, credential string) bool
	RememberRefused(ctx context.Context, credential string)
}

// SyncRefusals is a service/batch.SyncRefusals shared by the fleet: once
// Procore refused its sync endpoint to a credential (403 or 404), every
// replica sends that credential's batches by single PATCHes at once. It is
// kept as long as PartialBodies (a property of the credential's rights on
// the Procore it lives on), cached locally, and local alone while Redis is
// down (each replica then pays one refused sync). Keys hold the
// credential key's SHA-256, never a token.
type SyncRefusals struct{ flags sharedFlags[string] }

// NewSyncRefusals returns the shared memory on conn over local.
func NewSyncRefusals(conn *Conn, local LocalSyncRefusals) *SyncRefusals {
	return &SyncRefusals{sharedFlags[string]{conn: conn, ttl: DefaultPartialBodiesTTL,
		key: func(credential string) string {
			sum := sha256.Sum256([]byte(credential))
			return "sync-refused:" + hex.EncodeToString(sum[:])
		},
		localHas: local.Refused, localAdd: local.RememberRefused}}
}

// Refused implements service/batch.SyncRefusals.
func (s *SyncRefusals) Refused(ctx context.Context, credential string) bool {
	return s.flags.has(ctx, credential)
}

// RememberRefused implements service/batch.SyncRefusals.
func (s *SyncRefusals) RememberRefused(ctx context.Context, credential string) {
	s.flags.add(ctx, credential)
}
