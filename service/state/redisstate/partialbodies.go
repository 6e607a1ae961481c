package redisstate

import (
	"context"
	"strconv"
	"time"
)

// DefaultPartialBodiesTTL is how long the fleet remembers that a company's
// Procore refuses partial bodies: long, since it is a property of the
// Procore the company lives on, yet not for ever, so a change there is
// noticed in time.
const DefaultPartialBodiesTTL = 7 * 24 * time.Hour

// LocalPartialBodies is the in-process memory the shared one caches in and
// falls back to (service.NewPartialBodyMemory's).
type LocalPartialBodies interface {
	RefusesPartial(ctx context.Context, companyID int64) bool
	RememberRefusesPartial(ctx context.Context, companyID int64)
}

// PartialBodies is a service.PartialBodyMemory shared by the fleet: what
// one replica learns (a company's Procore refuses a PATCH without
// last_name and email_address) the others use at once, instead of each
// paying the refused request. Answers are cached locally (a company once
// known to refuse stays known); while Redis is down only the local memory
// answers, which costs requests, never correctness.
type PartialBodies struct{ flags sharedFlags[int64] }

// NewPartialBodies returns the shared memory on conn over local.
func NewPartialBodies(conn *Conn, local LocalPartialBodies) *PartialBodies {
	return &PartialBodies{sharedFlags[int64]{conn: conn, ttl: DefaultPartialBodiesTTL,
		key:      func(companyID int64) string { return "refuses-partial:" + strconv.FormatInt(companyID, 10) },
		localHas: local.RefusesPartial, localAdd: local.RememberRefusesPartial}}
}

// RefusesPartial implements service.PartialBodyMemory.
func (p *PartialBodies) RefusesPartial(ctx context.Context, companyID int64) bool {
	return p.flags.has(ctx, companyID)
}

// RememberRefusesPartial implements service.PartialBodyMemory.
func (p *PartialBodies) RememberRefusesPartial(ctx context.Context, companyID int64) {
	p.flags.add(ctx, companyID)
}

// sharedFlags is a set the fleet shares, one Redis key per member with a
// time to live, over a local set that caches the members seen (a member
// once known stays known) and answers alone while Redis is down.
type sharedFlags[K any] struct {
	conn     *Conn
	ttl      time.Duration
	key      func(K) string // the member's key, before the Conn's prefix
	localHas func(context.Context, K) bool
	localAdd func(context.Context, K)
}

// has reports whether k is a member, here or in the fleet.
func (f *sharedFlags[K]) has(ctx context.Context, k K) bool {
	if f.localHas(ctx, k) {
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
		f.localAdd(ctx, k)
	}
	return n == 1
}

// add makes k a member, here and in the fleet.
func (f *sharedFlags[K]) add(ctx context.Context, k K) {
	f.localAdd(ctx, k)
	if !f.conn.Up() {
		return
	}
	if err := f.conn.Client().Set(context.WithoutCancel(ctx), f.conn.Key(f.key(k)), "1", f.ttl).Err(); err != nil {
		f.conn.Failed(ctx, err)
	}
}
