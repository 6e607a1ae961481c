package upstream

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/procore-directory/procore-directory/upstream/admission"
)

// RateLimit is Procore's rate-limit report for one credential, from the
// X-Rate-Limit-Limit, -Remaining and -Reset headers (see
// admission.RateLimit).
type RateLimit = admission.RateLimit

// parseRateLimit reads the headers; ok is false when they are absent or
// unreadable.
func parseRateLimit(h http.Header) (RateLimit, bool) {
	remaining, err1 := strconv.Atoi(strings.TrimSpace(h.Get("X-Rate-Limit-Remaining")))
	reset, err2 := strconv.ParseInt(strings.TrimSpace(h.Get("X-Rate-Limit-Reset")), 10, 64)
	if err1 != nil || err2 != nil {
		return RateLimit{}, false
	}
	limit, err := strconv.Atoi(strings.TrimSpace(h.Get("X-Rate-Limit-Limit")))
	if err != nil {
		limit = 0
	}
	return RateLimit{Limit: limit, Remaining: max(remaining, 0), Reset: time.Unix(reset, 0), Known: true}, true
}

// parseRetryAfter reads Retry-After as delay-seconds or an HTTP date.
func parseRetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(min(secs, 24*3600)) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
