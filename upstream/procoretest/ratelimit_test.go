package procoretest

import (
	"strconv"
	"testing"
	"time"
)

func TestRateLimits(t *testing.T) {
	tests := []struct {
		name          string
		hourly, spike int
		calls         int           // before the checked call
		advance       time.Duration // clock advance before the checked call
		wantStatus    int
		wantLimit     string
		wantRemaining string
		wantReset     time.Duration // from the first call
		wantRetry     string
	}{
		{name: "first call reports spike (closer)", hourly: 100, spike: 5, calls: 0, wantStatus: 200, wantLimit: "5", wantRemaining: "4", wantReset: 10 * time.Second},
		{name: "spike exhausted", hourly: 100, spike: 5, calls: 5, wantStatus: 429, wantLimit: "5", wantRemaining: "0", wantReset: 10 * time.Second, wantRetry: "10"},
		{name: "spike exhausted, later in window", hourly: 100, spike: 5, calls: 5, advance: 7 * time.Second, wantStatus: 429, wantLimit: "5", wantRemaining: "0", wantReset: 10 * time.Second, wantRetry: "3"},
		{name: "spike window resets", hourly: 100, spike: 5, calls: 5, advance: 10 * time.Second, wantStatus: 200, wantLimit: "5", wantRemaining: "4", wantReset: 20 * time.Second},
		{name: "hourly closer than spike", hourly: 3, spike: 25, calls: 1, wantStatus: 200, wantLimit: "3", wantRemaining: "1", wantReset: time.Hour},
		{name: "hourly exhausted", hourly: 3, spike: 25, calls: 3, wantStatus: 429, wantLimit: "3", wantRemaining: "0", wantReset: time.Hour, wantRetry: "3600"},
		{name: "hourly exhausted across spike windows", hourly: 3, spike: 25, calls: 3, advance: 30 * time.Minute, wantStatus: 429, wantLimit: "3", wantRemaining: "0", wantReset: time.Hour, wantRetry: "1800"},
		{name: "hourly resets", hourly: 3, spike: 0, calls: 3, advance: time.Hour, wantStatus: 200, wantLimit: "3", wantRemaining: "2", wantReset: 2 * time.Hour},
		{name: "defaults", hourly: -1, spike: -1, calls: 0, wantStatus: 200, wantLimit: "25", wantRemaining: "24", wantReset: 10 * time.Second},
		{name: "off", hourly: 0, spike: 0, calls: 100, wantStatus: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := newClock()
			start := clock.Now()
			opts := []Option{WithClock(clock.Now)}
			if tc.hourly >= 0 {
				opts = append(opts, WithHourlyLimit(tc.hourly), WithSpikeLimit(tc.spike))
			}
			e := newEmu(t, opts...)
			tok := mustToken(t, e, fieldClient)
			for i := range tc.calls {
				// Failed calls count too: alternate a 404 and a 200.
				uid := int64(1001)
				if i%2 == 1 {
					uid = 4242
				}
				do(t, e, call{method: "GET", path: userPath(summit, uid), token: tok})
			}
			clock.Advance(tc.advance)
			w := do(t, e, call{method: "GET", path: userPath(summit, 1001), token: tok})
			if w.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d", w.Code, tc.wantStatus)
			}
			h := w.Header()
			if h.Get("X-Rate-Limit-Limit") != tc.wantLimit || h.Get("X-Rate-Limit-Remaining") != tc.wantRemaining || h.Get("Retry-After") != tc.wantRetry {
				t.Errorf("limit=%q remaining=%q retry-after=%q, want %q %q %q", h.Get("X-Rate-Limit-Limit"), h.Get("X-Rate-Limit-Remaining"), h.Get("Retry-After"), tc.wantLimit, tc.wantRemaining, tc.wantRetry)
			}
			if tc.wantLimit != "" {
				if want := strconv.FormatInt(start.Add(tc.wantReset).Unix(), 10); h.Get("X-Rate-Limit-Reset") != want {
					t.Errorf("reset %s, want %s", h.Get("X-Rate-Limit-Reset"), want)
				}
			}
			if tc.wantStatus == 429 && w.Body.String() != rateLimitedText {
				t.Errorf("429 body %q", w.Body)
			}
			// Limits are per token: a fresh token is not limited.
			if w2 := do(t, e, call{method: "GET", path: userPath(summit, 1001), token: mustToken(t, e, fieldClient)}); w2.Code != 200 {
				t.Errorf("fresh token: %d", w2.Code)
			}
		})
	}
}

func TestRateLimitCountsRejectedAuthorizedCalls(t *testing.T) {
	clock := newClock()
	e := newEmu(t, WithClock(clock.Now), WithSpikeLimit(2), WithHourlyLimit(0))
	tok := mustToken(t, e, fieldClient)
	codes := []int{}
	for _, c := range []call{
		{method: "GET", path: userPath(harbor, 2001), token: tok},                     // 403 not connected
		{method: "GET", path: userPath(summit, 1001), token: tok, noCompanyHdr: true}, // 400
		{method: "GET", path: userPath(summit, 1001), token: tok},                     // 429
	} {
		codes = append(codes, do(t, e, c).Code)
	}
	if !equalJSON(codes, []int{403, 400, 429}) {
		t.Fatalf("codes %v", codes)
	}
}
