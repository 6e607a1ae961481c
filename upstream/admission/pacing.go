package admission

import (
	"math"
	"time"

	"golang.org/x/time/rate"
)

// DefaultPacingBurst is how many requests of one credential may go at once
// before pacing spreads the rest over the credential's window.
//
// Callers that share one Procore credential share its budget. With pacing,
// once Procore has reported a credential's budget (X-Rate-Limit-Remaining
// until X-Rate-Limit-Reset), requests are spread over the time left at
// Remaining/(Reset-now) per second, in bursts of at most burst; the rate is
// re-tuned from every response. While the budget is not known (no report
// yet, or the reported window has ended) requests go one at a time until an
// answer reports it. A burst of internal traffic thus turns into waiting,
// bounded by each caller's deadline, instead of a storm of 429s.
const DefaultPacingBurst = 5

// pacer spreads one credential's budget over its window: a token bucket
// whose rate is re-tuned at each admission.
type pacer struct {
	lim *rate.Limiter
}

func newPacer(burst int) *pacer {
	if burst <= 0 {
		return nil
	}
	return &pacer{lim: rate.NewLimiter(rate.Inf, burst)}
}

// tune sets the rate from the budget left (not yet spoken for by requests
// in flight) and the time to the reset; an unknown or ended window means no
// pacing.
func (p *pacer) tune(rl RateLimit, inflight int, now time.Time) {
	if !rl.Known || !rl.Reset.After(now) {
		p.lim.SetLimitAt(now, rate.Inf)
		return
	}
	left := max(rl.Remaining-inflight, 0)
	perSec := float64(left) / rl.Reset.Sub(now).Seconds()
	if math.IsInf(perSec, 0) || math.IsNaN(perSec) {
		perSec = 0
	}
	p.lim.SetLimitAt(now, rate.Limit(perSec))
}

// reserve takes one request's slot and says how long to wait for it; the
// reservation can be given back if the caller will not use it.
func (p *pacer) reserve(now time.Time) (time.Duration, *rate.Reservation) {
	r := p.lim.ReserveN(now, 1)
	if !r.OK() {
		return time.Duration(math.MaxInt64), nil
	}
	return r.DelayFrom(now), r
}

// next says how long until a turn is free without reserving one: batch
// work looks at it so as never to hold a turn ahead of interactive attempts
// yet to come.
func (p *pacer) next(now time.Time) time.Duration {
	lim := p.lim.Limit()
	if lim == rate.Inf {
		return 0
	}
	tokens := p.lim.TokensAt(now)
	switch {
	case tokens >= 1:
		return 0
	case lim <= 0:
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(math.Ceil((1 - tokens) / float64(lim) * float64(time.Second)))
}
