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
type PartialBodies struct {
	conn  *Conn
	local LocalPartialBodies
	ttl   time.Duration
}

// NewPartialBodies returns the shared memory on conn over local.
func NewPartialBodies(conn *Conn, local LocalPartialBodies) *PartialBodies {
	return &PartialBodies{conn: conn, local: local, ttl: DefaultPartialBodiesTTL}
}

func (p *PartialBodies) key(companyID int64) string {
	return p.conn.Key("refuses-partial:" + strconv.FormatInt(companyID, 10))
}

// RefusesPartial implements service.PartialBodyMemory.
func (p *PartialBodies) RefusesPartial(ctx context.Context, companyID int64) bool {
	if p.local.RefusesPartial(ctx, companyID) {
		return true
	}
	if !p.conn.Up() {
		return false
	}
	n, err := p.conn.Client().Exists(ctx, p.key(companyID)).Result()
	if err != nil {
		p.conn.Failed(ctx, err)
		return false
	}
	if n == 1 {
		p.local.RememberRefusesPartial(ctx, companyID)
	}
	return n == 1
}

// RememberRefusesPartial implements service.PartialBodyMemory.
func (p *PartialBodies) RememberRefusesPartial(ctx context.Context, companyID int64) {
	p.local.RememberRefusesPartial(ctx, companyID)
	if !p.conn.Up() {
		return
	}
	if err := p.conn.Client().Set(context.WithoutCancel(ctx), p.key(companyID), "1", p.ttl).Err(); err != nil {
		p.conn.Failed(ctx, err)
	}
}
