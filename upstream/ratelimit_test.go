package upstream

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

func setLimit(w http.ResponseWriter, limit, remaining int, reset time.Time) {
	w.Header().Set("X-Rate-Limit-Limit", strconv.Itoa(limit))
	w.Header().Set("X-Rate-Limit-Remaining", strconv.Itoa(remaining))
	w.Header().Set("X-Rate-Limit-Reset", strconv.FormatInt(reset.Unix(), 10))
}

func TestParseRateLimit(t *testing.T) {
	tests := []struct {
		limit, remaining, reset string
		want                    RateLimit
		ok                      bool
	}{
		{"600", "12", "1900000000", RateLimit{Limit: 600, Remaining: 12, Reset: time.Unix(1900000000, 0), Known: true}, true},
		{"", "0", "1900000000", RateLimit{Limit: 0, Remaining: 0, Reset: time.Unix(1900000000, 0), Known: true}, true},
		{"25", "-1", "1900000000", RateLimit{Limit: 25, Remaining: 0, Reset: time.Unix(1900000000, 0), Known: true}, true},
		{"25", "x", "1900000000", RateLimit{}, false},
		{"25", "3", "", RateLimit{}, false},
	}
	for _, tt := range tests {
		h := http.Header{}
		h.Set("X-Rate-Limit-Limit", tt.limit)
		h.Set("X-Rate-Limit-Remaining", tt.remaining)
		h.Set("X-Rate-Limit-Reset", tt.reset)
		got, ok := parseRateLimit(h)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%+v: %+v %v", tt, got, ok)
		}
	}
}

// TestRateLimitWaitsForReset: with Remaining 0, the next call waits until
// the reset when the deadline allows, and is sent after it.
func TestRateLimitWaitsForReset(t *testing.T) {
	reset := time.Unix(time.Now().Unix()+1, 0)
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			setLimit(w, 25, 0, reset)
		}
		writeUser(w)
	})
	c, err := New(f.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(ContextWithToken(context.Background(), testToken), 10*time.Second)
	defer cancel()
	for range 2 {
		if _, err := c.GetCompanyUser(ctx, 8089, 1001); err != nil {
			t.Fatal(err)
		}
	}
	reqs := f.requests()
	if len(reqs) != 2 || reqs[1].At.Before(reset) {
		t.Fatalf("second request at %v, before the reset %v", reqs[1].At, reset)
	}
	if rl := c.RateLimit(TokenID(testToken)); !rl.Known || rl.Limit != 25 {
		t.Fatalf("state %+v", rl)
	}
}

// TestRateLimitRefusedLocally: when the reset is after the deadline the
// call fails at once with KindRateLimited and nothing is sent; another
// credential is not affected.
func TestRateLimitRefusedLocally(t *testing.T) {
	reset := time.Now().Add(time.Hour)
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			setLimit(w, 600, 0, reset)
		}
		writeUser(w)
	})
	c, err := New(f.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(ContextWithToken(context.Background(), testToken), 10*time.Second)
	defer cancel()
	if _, err := c.GetCompanyUser(ctx, 8089, 1001); err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{http.MethodGet, http.MethodPatch} {
		_, err = callAs(ctx, c, method)
		e := asError(t, err)
		if e.Kind != KindRateLimited || e.RetryAfter < 59*time.Minute || e.RateLimit.Remaining != 0 || e.RateLimit.Limit != 600 || e.Attempts != 0 || e.Err != nil {
			t.Fatalf("%s: error %+v", method, e)
		}
	}
	if n := len(f.requests()); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
	other := ContextWithToken(ctx, "another-token")
	if _, err := c.GetCompanyUser(other, 8089, 1001); err != nil {
		t.Fatalf("another credential was limited: %v", err)
	}
}

// TestRateLimitCountsInFlight: with 2 requests left and 2 in flight, a
// third caller is not sent (it would certainly get a 429).
func TestRateLimitCountsInFlight(t *testing.T) {
	reset := time.Now().Add(time.Hour)
	arrived := make(chan struct{}, 8)
	release := make(chan struct{})
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			setLimit(w, 600, 2, reset)
			writeUser(w)
			return
		}
		arrived <- struct{}{}
		<-release
		setLimit(w, 600, 0, reset)
		writeUser(w)
	})
	c, err := New(f.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := ContextWithToken(context.Background(), testToken)
	if _, err := c.GetCompanyUser(ctx, 8089, 1001); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = c.GetCompanyUser(ctx, 8089, 1001)
		}()
	}
	<-arrived
	<-arrived
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	_, err = c.GetCompanyUser(short, 8089, 1001)
	if e := asError(t, err); e.Kind != KindRateLimited || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("third caller: %v", err)
	}
	close(release)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := len(f.requests()); n != 3 {
		t.Fatalf("%d requests, want 3", n)
	}
	// Now spent: refused at once.
	later, cancel2 := context.WithTimeout(ctx, 10*time.Second)
	defer cancel2()
	_, err = c.GetCompanyUser(later, 8089, 1001)
	if e := asError(t, err); e.Kind != KindRateLimited {
		t.Fatalf("after spending: %v", err)
	}
}
