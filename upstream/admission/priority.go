package admission

import (
	"fmt"
	"math"
)

// DefaultBatchBudgetShare is the most of a credential's budget batch work
// may take while interactive attempts wait for it.
//
// One half is the largest share that keeps the promise to a single
// call under a steady interactive stream: batch turns then alternate with
// interactive ones at most one for one, so an interactive attempt waits at
// most one pacing interval more than it would without the batch. A smaller
// share would slow a batch that no one is starving (interactive demand
// alone rarely fills the budget) to protect waits already within that
// bound; a larger one lets two batch turns come between interactive ones.
const DefaultBatchBudgetShare = 0.5

// BatchBudgetShareUsage is the description of the --batch-budget-share
// flag, kept here beside the rule it describes.
const BatchBudgetShareUsage = "the most of a credential's Procore budget batch work may take while single calls " +
	"wait for it, a fraction from 0 (batch waits for every single call) to 1 (no priority); without waiting " +
	"single calls batch work may use all of it"

// CheckBatchBudgetShare reports whether f is a valid share: a number from 0
// to 1.
func CheckBatchBudgetShare(f float64) error {
	if math.IsNaN(f) || f < 0 || f > 1 {
		return fmt.Errorf("batch budget share %v: must be from 0 to 1", f)
	}
	return nil
}

// LimitsOption configures Limits.
type LimitsOption func(*Limits)

// WithBatchBudgetShare sets the most of a credential's budget batch
// attempts (WithBatch) may take while interactive ones wait for it
// (DefaultBatchBudgetShare); see SetBatchBudgetShare.
func WithBatchBudgetShare(f float64) LimitsOption {
	return func(r *Limits) { r.SetBatchBudgetShare(f) }
}

// SetBatchBudgetShare sets the batch budget share: while an interactive
// attempt waits for a credential's budget, a batch attempt is admitted only
// on credit earned by interactive admissions, share/(1-share) turns per
// interactive turn, so that batch work takes at most that share of the turns
// and a steady interactive stream cannot starve it. With no interactive
// attempt waiting, batch work may use the whole budget, but only turns free
// now: it never reserves a paced turn ahead of an interactive attempt yet to
// come. f is clamped to [0, 1]; 1 turns priority off (batch attempts are
// admitted as interactive ones). Call it before use, as SetShare.
func (r *Limits) SetBatchBudgetShare(f float64) {
	if math.IsNaN(f) {
		f = DefaultBatchBudgetShare
	}
	r.batchShare = min(max(f, 0), 1)
}

// BatchBudgetShare returns the share SetBatchBudgetShare set, so that a
// fleet's shared budget applies the same rule.
func (r *Limits) BatchBudgetShare() float64 { return r.batchShare }

// BatchCredit returns the credit one interactive admission gives batch
// work while both wait, and the most credit may hold, for share; credit < 0
// means priority is off (share 1).
func BatchCredit(share float64) (credit, ceiling float64) {
	if share >= 1 {
		return -1, 0
	}
	credit = max(share, 0) / (1 - max(share, 0))
	return credit, max(1, credit)
}

// creditEpsilon absorbs rounding in sums of credit (three thirds).
const creditEpsilon = 1e-9

// priority is a Budget's view of the classes: who waits, and the credit
// batch work has earned to go while interactive attempts wait.
type priority struct {
	// gain is the credit per interactive admission while batch attempts
	// wait; below 0 priority is off. ceiling bounds credit.
	gain, ceiling float64
	credit        float64
	// waiting counts the attempts of each class waiting for their turn
	// (an interactive attempt counts through its paced wait too: it holds
	// a turn batch work must not take).
	waiting [numClasses]int
}

func newPriority(share float64) priority {
	gain, ceiling := BatchCredit(share)
	return priority{gain: gain, ceiling: ceiling}
}

// batchMode is how a batch attempt may take a turn.
type batchMode uint8

const (
	// reserve: as any attempt, it may reserve a paced turn.
	reserve batchMode = iota
	// freeNow: no interactive attempt waits; it may take a turn free now.
	freeNow
	// held: interactive attempts wait and batch work has no credit.
	held
)

// modeLocked says how an attempt of class c may take a turn now.
func (s *Budget) modeLocked(c Class) batchMode {
	switch {
	case c != Batch || s.prio.gain < 0:
		return reserve
	case s.prio.waiting[Interactive] == 0:
		return freeNow
	case s.prio.credit >= 1-creditEpsilon:
		return reserve
	}
	return held
}

// enterLocked counts the attempt (of class c) as waiting, once.
func (s *Budget) enterLocked(c Class, waiting *bool) {
	if !*waiting {
		*waiting = true
		s.prio.waiting[c]++
	}
}

// leaveLocked ends the attempt's wait; held batch attempts look again when
// the last interactive one stops waiting.
func (s *Budget) leaveLocked(c Class, waiting *bool) {
	if !*waiting {
		return
	}
	*waiting = false
	s.prio.waiting[c]--
	if c == Interactive && s.prio.waiting[Interactive] == 0 && s.prio.waiting[Batch] > 0 {
		s.broadcastLocked()
	}
}

// admittedLocked accounts for an admission of class c: an interactive one
// earns batch work credit if batch attempts wait (and keeps counting as
// waiting through its paced wait), a batch one spends credit.
func (s *Budget) admittedLocked(c Class, paced bool, waiting *bool) {
	if c == Batch {
		s.prio.credit = max(s.prio.credit-1, 0)
		s.leaveLocked(c, waiting)
		return
	}
	if s.prio.gain > 0 && s.prio.waiting[Batch] > 0 {
		before := s.prio.credit
		s.prio.credit = min(s.prio.credit+s.prio.gain, s.prio.ceiling)
		if before < 1-creditEpsilon && s.prio.credit >= 1-creditEpsilon {
			s.broadcastLocked()
		}
	}
	if paced {
		s.enterLocked(c, waiting)
	} else {
		s.leaveLocked(c, waiting)
	}
}
