package service

import (
	"context"

	"github.com/procore-directory/procore-directory/service/state"
)

// PartialBodyMemory remembers which companies' Procore refuses a PATCH body
// without last_name and email_address, so that --required-fields=auto pays
// the refused attempt once per company rather than once per update. It is
// an interface because replicas should share what one of them learned
// (a Redis-backed one, for instance); the default keeps it in memory.
//
// A memory that cannot answer (its store is down) reports false: the update
// then sends the masked fields first and, if refused, fills them, which
// costs one Procore request more and never changes what is written.
// Implementations must be safe for concurrent use and must not block long:
// they are on every auto-mode update's path.
type PartialBodyMemory interface {
	// RefusesPartial reports whether the company is known to refuse
	// partial bodies.
	RefusesPartial(ctx context.Context, companyID int64) bool
	// RememberRefusesPartial records that the company refused one.
	RememberRefusesPartial(ctx context.Context, companyID int64)
}

// DefaultPartialBodyCompanies bounds the in-memory PartialBodyMemory: a
// company id comes from the caller, and Procore may refuse a body for a
// missing field before it looks the company up, so without a bound callers
// could grow the map without limit.
const DefaultPartialBodyCompanies = 10000

// NewPartialBodyMemory returns a PartialBodyMemory kept in this process,
// holding at most max companies (DefaultPartialBodyCompanies when max <= 0).
// Past the bound nothing new is remembered: those companies keep paying the
// refused attempt, which costs requests, never correctness.
func NewPartialBodyMemory(max int) PartialBodyMemory {
	return localPartialBodies{state.NewBoundedSet[int64](max, DefaultPartialBodyCompanies)}
}

// localPartialBodies is the in-process PartialBodyMemory.
type localPartialBodies struct{ refuses *state.BoundedSet[int64] }

// RefusesPartial implements PartialBodyMemory.
func (m localPartialBodies) RefusesPartial(_ context.Context, companyID int64) bool {
	return m.refuses.Has(companyID)
}

// RememberRefusesPartial implements PartialBodyMemory.
func (m localPartialBodies) RememberRefusesPartial(_ context.Context, companyID int64) {
	m.refuses.Add(companyID)
}

// WithPartialBodyMemory replaces the in-process memory of
// --required-fields=auto (NewPartialBodyMemory) with a shared one.
func WithPartialBodyMemory(m PartialBodyMemory) Option {
	return func(s *Service) {
		if m != nil {
			s.rule.partial = m
		}
	}
}
