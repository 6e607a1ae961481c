package upstream

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// refreshingSource is a TokenSource whose Refresh is counted.
type refreshingSource struct{ refreshed int }

func (s *refreshingSource) Credential(context.Context) (Credential, error) {
	return Credential{Token: testToken, ID: "client-42"}, nil
}

func (s *refreshingSource) Refresh(context.Context, Credential) error {
	s.refreshed++
	return nil
}

// TestObserverAndCallStats: a 401 (refresh), a 503 (retry), then a 200
// with rate-limit headers: the observer sees three attempts, one call, one
// refresh and the rate limit, and the context's CallStats the same.
func TestObserverAndCallStats(t *testing.T) {
	reset := time.Now().Add(time.Hour)
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		w.Header().Set("X-Request-Id", "req-"+string(rune('0'+n)))
		switch n {
		case 1:
			w.WriteHeader(http.StatusUnauthorized)
		case 2:
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			setLimit(w, 600, 597, reset)
			writeUser(w)
		}
	})
	rec := &recorder{}
	ts := &refreshingSource{}
	c, _, ctx := newTestClient(t, f.URL, WithObserver(rec), WithTokenSource(ts))
	ctx, stats := WithCallStats(ctx)
	if _, err := c.GetCompanyUser(ctx, 8089, 1001); err != nil {
		t.Fatal(err)
	}
	if len(rec.attempts) != 3 || len(rec.calls) != 1 || len(rec.refreshes) != 1 || len(rec.limits) != 1 {
		t.Fatalf("events: %d attempts, %d calls, %d refreshes, %d limits", len(rec.attempts), len(rec.calls), len(rec.refreshes), len(rec.limits))
	}
	for i, want := range []int{401, 503, 200} {
		a := rec.attempts[i]
		if a.StatusCode != want || a.Attempt != i+1 || a.Route != routeTemplate || a.CredentialID != "client-42" || a.Method != http.MethodGet {
			t.Errorf("attempt %d: %+v", i, a)
		}
	}
	if call := rec.calls[0]; call.StatusCode != 200 || call.Attempts != 3 || call.Kind != 0 {
		t.Errorf("call %+v", call)
	}
	if rl := rec.limits[0]; rl.Remaining != 597 || rl.Limit != 600 {
		t.Errorf("rate limit %+v", rl)
	}
	if stats.Attempts() != 3 || stats.StatusCode() != 200 || stats.RequestID() != "req-3" {
		t.Errorf("call stats: %d attempts, status %d, request id %q", stats.Attempts(), stats.StatusCode(), stats.RequestID())
	}
}
