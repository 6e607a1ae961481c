package admission

import (
	"context"
	"sync"
	"time"
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
}

// maxIdleLimitStates bounds the map when many pass-through tokens come and
// go: beyond it, states with nothing in flight and no live window are
// dropped.
const maxIdleLimitStates = 4096

// NewLimits returns empty per-credential state whose budgets pace in
// bursts of burst requests (0 or less: no pacing; see DefaultPacingBurst).
func NewLimits(burst int) *Limits { return &Limits{burst: max(burst, 0)} }

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
	s := &Budget{changed: make(chan struct{}), pace: newPacer(r.burst), share: r.share}
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
// when the deadline allows. It returns a *limitSpent when the wait would
// pass ctx's deadline, and ctx's error when ctx ends while waiting. Each
// admitted request must be followed by one Release.
func (s *Budget) Acquire(ctx context.Context, now func() time.Time) (*Spent, error) {
	for {
		s.mu.Lock()
		t := now()
		rl := s.remainingLocked()
		if s.admitsLocked(t) {
			return s.paceLocked(ctx, t, now) // unlocks
		}
		var (
			wait  <-chan time.Time
			timer *time.Timer
		)
		if rl.Known && rl.Reset.After(t) {
			if rl.Remaining <= 0 {
				if dl, ok := ctx.Deadline(); ok && dl.Before(rl.Reset) {
					s.mu.Unlock()
					return &Spent{RetryAfter: rl.Reset.Sub(t), RateLimit: rl}, nil
				}
			}
			timer = time.NewTimer(rl.Reset.Sub(t))
			wait = timer.C
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-wait:
		case <-changed:
		}
		if timer != nil {
			timer.Stop()
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}

// paceLocked admits the request (s.mu held, and released on return), then
// waits for its paced turn. A turn after ctx's deadline is given back at
// once as a *Spent.
func (s *Budget) paceLocked(ctx context.Context, t time.Time, now func() time.Time) (*Spent, error) {
	if s.pace == nil {
		s.inflight++
		s.mu.Unlock()
		return nil, nil
	}
	rl := s.remainingLocked()
	s.pace.tune(rl, s.inflight, t)
	delay, res := s.pace.reserve(t)
	if rl.Known && rl.Reset.After(t) {
		delay = min(delay, rl.Reset.Sub(t)) // a new window brings a new budget
	}
	if delay <= 0 {
		s.inflight++
		s.mu.Unlock()
		return nil, nil
	}
	if dl, ok := ctx.Deadline(); ok && dl.Before(t.Add(delay)) {
		if res != nil {
			res.CancelAt(t)
		}
		s.mu.Unlock()
		return &Spent{RetryAfter: delay, RateLimit: rl}, nil
	}
	s.inflight++ // hold the slot while waiting, so others are not over-admitted
	s.mu.Unlock()
	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil, nil
	case <-ctx.Done():
		if res != nil {
			res.CancelAt(now())
		}
		s.Release(RateLimit{}, false, false)
		return nil, ctx.Err()
	}
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
	close(s.changed)
	s.changed = make(chan struct{})
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
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
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
