package admission

import (
	"testing"
	"time"
)

// simEpoch is the simulated clock's zero, on a 10-second boundary.
var simEpoch = time.Unix(1_700_000_000, 0)

// simProcore is Procore's rate limit as the simulation sees it: Limit
// requests per fixed window, each answer reporting what is left.
type simProcore struct {
	limit    int
	window   time.Duration
	used     map[int64]int
	rejected int // 429s: requests over the limit
}

// handle counts a request handled at t and returns its report.
func (p *simProcore) handle(t time.Time) RateLimit {
	w := t.Sub(simEpoch) / p.window
	if p.used == nil {
		p.used = make(map[int64]int)
	}
	if p.used[int64(w)] >= p.limit {
		p.rejected++
	} else {
		p.used[int64(w)]++
	}
	return RateLimit{Limit: p.limit, Remaining: p.limit - p.used[int64(w)], Reset: simEpoch.Add((w + 1) * p.window), Known: true}
}

// Caller states in the simulation.
const (
	simIdle = iota
	simTrying
	simPaced
	simFlight
)

// simCaller is one caller: interactive ones arrive every period from
// start (or, busy, call again as soon as answered); batch ones are always
// busy.
type simCaller struct {
	class         Class
	busy          bool
	start, period time.Duration

	state   int
	at      time.Time // its next event
	waiting bool
	arrived time.Time
	report  RateLimit
	waits   []time.Duration // from arrival to sending
	// intervals are the pacing intervals at each arrival.
	intervals []time.Duration
}

// simRun is what a simulation measured.
type simRun struct {
	sent     [numClasses]int
	waits    [][]time.Duration // per caller
	rejected int
	spent    int
}

// never is a simulated time no event reaches.
var never = simEpoch.Add(1 << 62)

// simulate drives one Budget with a simulated clock: every caller is a
// state machine calling the Budget's own step (the decision Acquire waits
// on), so an hour of traffic runs in milliseconds and nothing sleeps.
// Ties go to the callers listed first (list batch callers first to give
// them every race). A caller waiting for the budget to change looks again
// whenever the Budget broadcasts, as Acquire's waiters do.
func simulate(t *testing.T, b *Budget, p *simProcore, callers []*simCaller, d, latency time.Duration) simRun {
	t.Helper()
	var run simRun
	clock := simEpoch
	end := simEpoch.Add(d)
	for _, c := range callers {
		c.state, c.at = simIdle, simEpoch.Add(c.start)
	}
	send := func(c *simCaller) {
		if c.class == Interactive && !c.busy {
			c.waits = append(c.waits, clock.Sub(c.arrived))
		}
		run.sent[c.class]++
		c.report = p.handle(clock)
		c.state, c.at = simFlight, clock.Add(latency)
	}
	try := func(c *simCaller) {
		b.mu.Lock()
		st := b.stepLocked(c.class, clock, time.Time{}, &c.waiting)
		b.mu.Unlock()
		switch {
		case st.spent != nil:
			run.spent++
			c.state, c.at = simIdle, clock.Add(c.period)
		case st.admitted && st.wait > 0:
			c.state, c.at = simPaced, clock.Add(st.wait)
		case st.admitted:
			send(c)
		case st.wait > 0:
			c.state, c.at = simTrying, clock.Add(st.wait)
		default:
			c.state, c.at = simTrying, never
		}
	}
	for steps := 0; ; steps++ {
		if steps > 10_000_000 {
			t.Fatal("simulation does not progress")
		}
		var c *simCaller
		for _, x := range callers {
			if c == nil || x.at.Before(c.at) {
				c = x
			}
		}
		if c.at.After(end) {
			break
		}
		clock = c.at
		before := b.changed
		switch c.state {
		case simIdle:
			c.arrived = clock
			try(c)
			if c.class == Interactive && !c.busy {
				c.intervals = append(c.intervals, b.pacingInterval())
			}
		case simTrying:
			try(c)
		case simPaced:
			b.mu.Lock()
			b.leaveLocked(c.class, &c.waiting)
			b.mu.Unlock()
			send(c)
		case simFlight:
			b.Release(c.report, true, true)
			c.state, c.at = simIdle, clock
			if c.class == Interactive && !c.busy {
				c.at = clock.Add(c.period - (clock.Sub(simEpoch)-c.start)%c.period)
			}
		}
		if b.changed != before {
			for _, x := range callers {
				if x.state == simTrying {
					x.at = clock
				}
			}
		}
	}
	run.rejected = p.rejected
	for _, c := range callers {
		run.waits = append(run.waits, c.waits)
	}
	return run
}

// pacingInterval is the time between two paced turns as last tuned.
func (s *Budget) pacingInterval() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	lim := float64(s.pace.lim.Limit())
	if lim <= 0 || lim > 1e9 {
		return 0
	}
	return time.Duration(float64(time.Second) / lim)
}
