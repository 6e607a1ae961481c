package procoretest

import (
	"net/http"
	"strconv"
	"time"
)

// window is one fixed rate-limit window: it opens at the first request after
// the previous one ended and counts every request until it closes.
type window struct {
	start time.Time
	count int
}

// spikeWindow is the published spike window length.
const spikeWindow = 10 * time.Second

// rateState is what one request learnt from the limiter: the headers to
// send and, when over a limit, the Retry-After seconds.
type rateState struct {
	limit, remaining int
	reset            time.Time
	exceeded         bool
	retryAfter       time.Duration
	enabled          bool
}

// take counts one request against both windows of the token. Every
// authenticated request counts, failed and rejected ones too.
func (t *token) take(now time.Time, hourlyLimit, spikeLimit int) rateState {
	t.mu.Lock()
	defer t.mu.Unlock()
	var st rateState
	consider := func(w *window, limit int, length time.Duration) {
		if limit <= 0 {
			return
		}
		if w.start.IsZero() || !now.Before(w.start.Add(length)) {
			w.start, w.count = now, 0
		}
		w.count++
		reset := w.start.Add(length)
		remaining := max(limit-w.count, 0)
		if w.count > limit {
			st.exceeded = true
			st.retryAfter = max(st.retryAfter, reset.Sub(now))
		}
		// Report whichever limit the caller is closest to; ties keep the
		// first considered (hourly).
		if !st.enabled || remaining < st.remaining {
			st.limit, st.remaining, st.reset = limit, remaining, reset
		}
		st.enabled = true
	}
	consider(&t.hourly, hourlyLimit, time.Hour)
	consider(&t.spike, spikeLimit, spikeWindow)
	return st
}

// apply writes the X-Rate-Limit-* headers (and Retry-After when exceeded).
func (st rateState) apply(h http.Header) {
	if !st.enabled {
		return
	}
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(st.limit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(st.remaining))
	h.Set("X-Rate-Limit-Reset", strconv.FormatInt(ceilUnix(st.reset), 10))
	if st.exceeded {
		secs := int64((st.retryAfter + time.Second - 1) / time.Second)
		h.Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
	}
}

func ceilUnix(t time.Time) int64 {
	if t.Nanosecond() > 0 {
		return t.Unix() + 1
	}
	return t.Unix()
}

const rateLimitedText = "You have surpassed the max number of requests for an hour. Please wait until your limit resets."
