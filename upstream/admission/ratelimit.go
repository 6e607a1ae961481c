package admission

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateLimit is Procore's rate-limit report for one credential, from the
// X-Rate-Limit-Limit, -Remaining and -Reset headers. Procore reports
// whichever of its limits (hourly, or the 10-second spike limit) the
// credential is closest to, so the numbers are taken as reported and never
// hard-coded.
type RateLimit struct {
	Limit     int
	Remaining int
	// Reset is when the reported window resets.
	Reset time.Time
	// Known is false when no response carried the headers yet.
	Known bool
}

// Limits holds one Budget per credential ID. Procore's limits are
// per access token, so callers with different tokens never wait for each
// other.
type Limits struct {
	mu     sync.Mutex
	states map[string]*Budget
	// burst is the pacing burst; 0 turns pacing off.
	burst int
	// share, when set, is how many replicas are estimated to spend the
	// same budget: each admits only its part (SetShare).
	share func() int
	// batchShare is the most of a budget batch work may take while
	// interactive attempts wait (SetBatchBudgetShare).
	batchShare float64
}

// maxIdleLimitStates bounds the map when many pass-through tokens come and
// go: beyond it, states with nothing in flight and no live window are
// dropped.
const maxIdleLimitStates = 4096

// NewLimits returns empty per-credential state whose budgets pace in
// bursts of burst requests (0 or less: no pacing; see DefaultPacingBurst)
// and admit batch attempts after interactive ones (WithBatchBudgetShare).
func NewLimits(burst int, opts ...LimitsOption) *Limits {
	r := &Limits{burst: max(burst, 0), batchShare: DefaultBatchBudgetShare}
	for _, o := range opts {
		o(r)
	}
	return r
}

// SetShare makes every budget admit only Remaining/share() of what Procore
// reports (share() below 1 counts as 1). A fleet's shared budget sets it
// while its store is unreachable: the replicas then spend one budget
// without seeing each other, and splitting it by their last known number is
// the estimate that keeps them under Procore's limit. Call it before use.
func (r *Limits) SetShare(share func() int) { r.share = share }

// Admission implements Budgets: the credential's Budget admits each of its
// attempts.
func (r *Limits) Admission(id string, now time.Time) Admission { return r.For(id, now) }

// For returns the budget of the credential id, created on first use.
func (r *Limits) For(id string, now time.Time) *Budget {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.states == nil {
		r.states = make(map[string]*Budget)
	}
	if s, ok := r.states[id]; ok {
		return s
	}
	if len(r.states) >= maxIdleLimitStates {
		for k, s := range r.states {
			if s.idle(now) {
				delete(r.states, k)
			}
		}
	}
	s := &Budget{changed: make(chan struct{}), pace: newPacer(r.burst), share: r.share, prio: newPriority(r.batchShare)}
	r.states[id] = s
	return s
}

// Budget is the rate-limit state of one credential: Procore's last
// report and the requests in flight that the report does not count yet.
//
// Acquire is the single point where a request is admitted, and where
// pacing spreads concurrent calls over the window.
type Budget struct {
	mu       sync.Mutex
	rl       RateLimit
	inflight int
	// answered is set once any response came back: from then on, no
	// report means Procore reports no limit for this credential.
	answered bool
	// pace is nil when pacing is off.
	pace *pacer
	// changed is closed and replaced whenever a request completes, so
	// waiters re-check without polling.
	changed chan struct{}
	// share is Limits.share (nil: this replica spends the whole budget).
	share func() int
	// prio orders the classes (priority.go).
	prio priority
}

// remainingLocked is the reported Remaining this replica may spend: all
// of it, or its share while replicas split the budget by estimate.
func (s *Budget) remainingLocked() RateLimit {
	rl := s.rl
	if s.share != nil {
		if n := s.share(); n > 1 {
			rl.Remaining /= n
		}
	}
	return rl
}

// Spent says the budget is spent until after the caller's deadline.
type Spent struct {
	// RetryAfter is when the budget will allow a request again.
	RetryAfter time.Duration
	// RateLimit is the budget as last reported.
	RateLimit RateLimit
}

// admitsLocked reports whether one more request may go now. It never
// admits a request certain to get a 429: with Remaining known and the
// window live, at most Remaining requests are in flight. With pacing, an
// unknown budget (never reported, or the window ended) is probed by one
// request at a time.
func (s *Budget) admitsLocked(t time.Time) bool {
	rl := s.remainingLocked()
	switch {
	case rl.Known && rl.Reset.After(t):
		return rl.Remaining-s.inflight > 0
	case s.pace == nil:
		return true
	case !rl.Known && s.answered:
		return true // Procore reports no limit for this credential
	}
	return s.inflight == 0
}

// Acquire admits one request, counting it in flight, or waits until the
// window resets, an in-flight request completes, or its paced turn comes,
// when the deadline allows. It returns a *Spent when the wait would pass
// ctx's deadline, and ctx's error when ctx ends while waiting. Each
// admitted request must be followed by one Release.
//
// An attempt under WithBatch goes after the interactive attempts waiting
// for the same budget (priority.go).
func (s *Budget) Acquire(ctx context.Context, now func() time.Time) (*Spent, error) {
	c := ClassOf(ctx)
	var deadline time.Time
	if dl, ok := ctx.Deadline(); ok {
		deadline = dl
	}
	var (
		waiting bool
		timer   *time.Timer
	)
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		s.mu.Lock()
		st := s.stepLocked(c, now(), deadline, &waiting)
		changed := s.changed
		s.mu.Unlock()
		if st.spent != nil {
			return st.spent, nil
		}
		if st.admitted && st.wait <= 0 {
			return nil, nil
		}
		var fire <-chan time.Time
		if st.wait > 0 {
			if timer == nil {
				timer = time.NewTimer(st.wait)
			} else {
				timer.Reset(st.wait)
			}
			fire = timer.C
		}
		if st.admitted {
			return s.pacedWait(ctx, c, st.res, fire, &waiting, now)
		}
		select {
		case <-ctx.Done():
		case <-fire:
		case <-changed:
		}
		if err := ctx.Err(); err != nil {
			s.mu.Lock()
			s.leaveLocked(c, &waiting)
			s.mu.Unlock()
			return nil, err
		}
	}
}

// pacedWait waits for an admitted attempt's paced turn, holding its slot
// so that others are not over-admitted; an attempt whose ctx ends first
// gives its turn and slot back.
func (s *Budget) pacedWait(ctx context.Context, c Class, res *rate.Reservation, turn <-chan time.Time,
	waiting *bool, now func() time.Time) (*Spent, error) {
	select {
	case <-turn:
		s.mu.Lock()
		s.leaveLocked(c, waiting)
		s.mu.Unlock()
		return nil, nil
	case <-ctx.Done():
		s.mu.Lock()
		if res != nil {
			res.CancelAt(now())
		}
		s.leaveLocked(c, waiting)
		s.mu.Unlock()
		s.Release(RateLimit{}, false, false)
		return nil, ctx.Err()
	}
}

// step is what one look at the budget decided for an attempt.
type step struct {
	// admitted: the attempt counts in flight and goes after wait (its
	// paced turn; res is its reservation, if any).
	admitted bool
	// wait is, when not admitted, when to look again at the latest
	// (0: when the budget changes).
	wait  time.Duration
	res   *rate.Reservation
	spent *Spent
}

// stepLocked looks once at the budget for an attempt of class c at t with
// its deadline (zero: none); waiting is the attempt's own flag of being
// counted as waiting. It never admits a request certain to get a 429 (see
// admitsLocked), paces the admitted ones, and applies the classes' order:
// a batch attempt takes only a turn free now while no interactive attempt
// waits, and none (beyond its credit) while one does.
func (s *Budget) stepLocked(c Class, t, deadline time.Time, waiting *bool) step {
	rl := s.remainingLocked()
	live := rl.Known && rl.Reset.After(t)
	spent := func(d time.Duration) *Spent {
		if deadline.IsZero() || !deadline.Before(t.Add(d)) {
			return nil
		}
		s.leaveLocked(c, waiting)
		return &Spent{RetryAfter: d, RateLimit: rl}
	}
	if !s.admitsLocked(t) {
		var d time.Duration
		if live {
			d = rl.Reset.Sub(t)
			if rl.Remaining <= 0 {
				if sp := spent(d); sp != nil {
					return step{spent: sp}
				}
			}
		}
		s.enterLocked(c, waiting)
		return step{wait: d}
	}
	mode := s.modeLocked(c)
	if mode == held {
		s.enterLocked(c, waiting)
		return step{}
	}
	var (
		delay time.Duration
		res   *rate.Reservation
	)
	if s.pace != nil {
		s.pace.tune(rl, s.inflight, t)
		if mode == freeNow {
			if d := s.pace.next(t); d > 0 {
				if live {
					d = min(d, rl.Reset.Sub(t))
				}
				if sp := spent(d); sp != nil {
					return step{spent: sp}
				}
				s.enterLocked(c, waiting)
				return step{wait: d}
			}
		}
		delay, res = s.pace.reserve(t)
		if live {
			delay = min(delay, rl.Reset.Sub(t)) // a new window brings a new budget
		}
		if delay > 0 {
			if sp := spent(delay); sp != nil {
				if res != nil {
					res.CancelAt(t)
				}
				return step{spent: sp}
			}
		}
	}
	s.inflight++
	s.admittedLocked(c, delay > 0, waiting)
	return step{admitted: true, wait: delay, res: res}
}

// Release ends one admitted request, first recording what its response
// reported (if reported); answered says whether a response came back.
func (s *Budget) Release(rl RateLimit, reported, answered bool) {
	s.mu.Lock()
	if reported {
		s.observeLocked(rl)
	}
	if answered {
		s.answered = true
	}
	s.inflight--
	s.broadcastLocked()
	s.mu.Unlock()
}

// Observe records a report that no request of this budget's own brought:
// a shared budget keeps the local one current with what it sees, so that
// falling back to it (the store unreachable) starts from the latest report.
func (s *Budget) Observe(rl RateLimit, reported, answered bool) {
	s.mu.Lock()
	if reported {
		s.observeLocked(rl)
	}
	if answered {
		s.answered = true
	}
	s.broadcastLocked()
	s.mu.Unlock()
}

// broadcastLocked wakes every waiter to look at the budget again.
func (s *Budget) broadcastLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// observeLocked keeps the latest report; two reports of the same window
// keep the lower Remaining, since responses can arrive out of order.
func (s *Budget) observeLocked(rl RateLimit) {
	if s.rl.Known && rl.Reset.Equal(s.rl.Reset) {
		rl.Remaining = min(rl.Remaining, s.rl.Remaining)
	}
	s.rl = rl
}

// Snapshot returns the budget as last reported.
func (s *Budget) Snapshot() RateLimit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rl
}

func (s *Budget) idle(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inflight == 0 && (!s.rl.Known || !s.rl.Reset.After(now))
}
