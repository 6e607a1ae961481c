package redisstate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/procore-directory/procore-directory/service/state"
)

// DefaultPartialBodiesTTL is how long the fleet remembers what it learned
// about Procore (a company's Procore refuses partial bodies, a credential
// was refused sync): long, since it is a property of the Procore the
// company lives on or of the credential's rights there, yet not for ever,
// so a change there is noticed in time.
const DefaultPartialBodiesTTL = 7 * 24 * time.Hour

// NewPartialBodies returns a service.PartialBodyMemory shared by the fleet
// on conn over local: what one replica learns (a company's Procore refuses
// a PATCH without last_name and email_address) the others use at once,
// instead of each paying the refused request.
func NewPartialBodies(conn *Conn, local state.Memory[int64]) *SharedMemory[int64] {
	return &SharedMemory[int64]{conn: conn, ttl: DefaultPartialBodiesTTL, local: local,
		key: func(companyID int64) string { return "refuses-partial:" + strconv.FormatInt(companyID, 10) }}
}

// NewSyncRefusals returns a service/batch.SyncRefusals shared by the fleet
// on conn over local: once Procore refused its sync endpoint to a
// credential (403 or 404), every replica sends that credential's batches
// by single PATCHes at once. Keys hold the credential key's SHA-256, never
// a token.
func NewSyncRefusals(conn *Conn, local state.Memory[string]) *SharedMemory[string] {
	return &SharedMemory[string]{conn: conn, ttl: DefaultPartialBodiesTTL, local: local,
		key: func(credential string) string {
			sum := sha256.Sum256([]byte(credential))
			return "sync-refused:" + hex.EncodeToString(sum[:])
		}}
}

// SharedMemory is a state.Memory the fleet shares, one Redis key per
// member with a time to live, over a local memory that caches the members
// seen (a member once known stays known) and answers alone while Redis is
// down, which costs requests, never correctness.
type SharedMemory[K comparable] struct {
	conn  *Conn
	ttl   time.Duration
	key   func(K) string // the member's key, before the Conn's prefix
	local state.Memory[K]
}

// Has implements state.Memory: k is a member here or in the fleet.
func (f *SharedMemory[K]) Has(ctx context.Context, k K) bool {
	if f.local.Has(ctx, k) {
		return true
	}
	if !f.conn.Up() {
		return false
	}
	n, err := f.conn.Client().Exists(ctx, f.conn.Key(f.key(k))).Result()
	if err != nil {
		f.conn.Failed(ctx, err)
		return false
	}
	if n == 1 {
		f.local.Remember(ctx, k)
	}
	return n == 1
}

// Remember implements state.Memory: k becomes a member here and in the
// fleet.
func (f *SharedMemory[K]) Remember(ctx context.Context, k K) {
	f.local.Remember(ctx, k)
	if !f.conn.Up() {
		return
	}
	if err := f.conn.Client().Set(context.WithoutCancel(ctx), f.conn.Key(f.key(k)), "1", f.ttl).Err(); err != nil {
		f.conn.Failed(ctx, err)
	}
}
