package upstream

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func patchReq() UpdateRequest {
	req := UpdateRequest{CompanyID: 8089, UserID: 1001}
	req.Patch.SetString("last_name", "Diaz")
	req.Patch.SetString("email_address", "ana@example.com")
	return req
}

// callAs runs GET or PATCH against c.
func callAs(ctx context.Context, c *Client, method string) (*User, error) {
	if method == http.MethodGet {
		return c.GetCompanyUser(ctx, 8089, 1001)
	}
	return c.UpdateCompanyUser(ctx, patchReq())
}

// hangUp closes the connection without an answer, after the request was
// read: for the client, a reset after the request was written.
func hangUp(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

func TestRetryHonoursRetryAfter(t *testing.T) {
	for _, method := range []string{http.MethodGet, http.MethodPatch} {
		t.Run(method, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
				switch n {
				case 1:
					w.Header().Set("Retry-After", "7")
					w.WriteHeader(http.StatusTooManyRequests)
					_, _ = io.WriteString(w, "You have surpassed the max number of requests for an hour. Please wait until your limit resets.")
				case 2:
					w.Header().Set("Retry-After", "2")
					w.WriteHeader(http.StatusServiceUnavailable)
				default:
					writeUser(w)
				}
			})
			c, ns, ctx := newTestClient(t, f.URL)
			if _, err := callAs(ctx, c, method); err != nil {
				t.Fatal(err)
			}
			reqs := f.requests()
			if len(reqs) != 3 {
				t.Fatalf("%d requests, want 3", len(reqs))
			}
			if got, want := ns.recorded(), []time.Duration{7 * time.Second, 2 * time.Second}; !slices.Equal(got, want) {
				t.Errorf("waits %v, want %v", got, want)
			}
			for _, r := range reqs[1:] {
				if string(r.Body) != string(reqs[0].Body) || r.Method != method {
					t.Errorf("replay differs: %s %s", r.Method, r.Body)
				}
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		v    string
		want time.Duration
		ok   bool
	}{
		{"5", 5 * time.Second, true},
		{" 0 ", 0, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"-3", 0, false},
		{"soon", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.v != "" {
			h.Set("Retry-After", tt.v)
		}
		got, ok := parseRetryAfter(h, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%q: %v %v, want %v %v", tt.v, got, ok, tt.want, tt.ok)
		}
	}
}

func TestBackoffFullJitterBounds(t *testing.T) {
	c, err := New("http://x", WithBackoff(100*time.Millisecond, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var ceilings []int64
	c.jitter = func(n int64) int64 { ceilings = append(ceilings, n); return n - 1 }
	for n := 1; n <= 6; n++ {
		c.backoff(n)
	}
	want := []int64{100e6 + 1, 200e6 + 1, 400e6 + 1, 800e6 + 1, 1e9 + 1, 1e9 + 1}
	if !slices.Equal(ceilings, want) {
		t.Fatalf("ceilings %v, want %v", ceilings, want)
	}
}

func TestRetriesExhausted(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "<html><title>Service Unavailable</title></html>")
	})
	c, ns, ctx := newTestClient(t, f.URL, WithMaxAttempts(3))
	_, err := callAs(ctx, c, http.MethodPatch)
	e := asError(t, err)
	if e.Kind != KindStatus || e.StatusCode != 503 || e.Attempts != 3 || e.RetryAfter != time.Second || e.Message != "Service Unavailable" {
		t.Fatalf("error %+v", e)
	}
	if n := len(f.requests()); n != 3 {
		t.Fatalf("%d requests, want 3", n)
	}
	if n := len(ns.recorded()); n != 2 {
		t.Fatalf("%d waits, want 2", n)
	}
}

func TestRetryAfterPastDeadlineFailsAtOnce(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Retry-After", "60")
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	c, ns, ctx := newTestClient(t, f.URL)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := callAs(ctx, c, http.MethodGet)
	e := asError(t, err)
	if e.StatusCode != 503 || e.RetryAfter != time.Minute || e.Attempts != 1 {
		t.Fatalf("error %+v", e)
	}
	if len(ns.recorded()) != 0 || len(f.requests()) != 1 {
		t.Fatalf("waited %v, %d requests", ns.recorded(), len(f.requests()))
	}
}

// TestPatchNotReplayedWhenOutcomeUnknown: after a PATCH reached Procore and
// no reliable answer came back, it is not sent again; a GET is.
func TestPatchNotReplayedWhenOutcomeUnknown(t *testing.T) {
	tests := []struct {
		name     string
		fail     func(w http.ResponseWriter)
		patchErr ErrorKind
		status   int
	}{
		{"502", func(w http.ResponseWriter) { w.WriteHeader(502); _, _ = io.WriteString(w, "<html>Bad Gateway</html>") }, KindOutcomeUnknown, 502},
		{"504", func(w http.ResponseWriter) { w.WriteHeader(504) }, KindOutcomeUnknown, 504},
		{"reset after write", hangUp, KindOutcomeUnknown, 0},
		{"malformed 200", func(w http.ResponseWriter) { _, _ = io.WriteString(w, `{"id":1001,"first_na`) }, KindOutcomeUnknown, 200},
		{"500", func(w http.ResponseWriter) { w.WriteHeader(500); _, _ = io.WriteString(w, `{"error":"boom"}`) }, KindOutcomeUnknown, 500},
		{"520 (a CDN's)", func(w http.ResponseWriter) { w.WriteHeader(520) }, KindOutcomeUnknown, 520},
		{"524 (a CDN's)", func(w http.ResponseWriter) { w.WriteHeader(524) }, KindOutcomeUnknown, 524},
		{"501", func(w http.ResponseWriter) { w.WriteHeader(501) }, KindOutcomeUnknown, 501},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if n <= 2 { // the PATCH, then the first GET
					tt.fail(w)
					return
				}
				writeUser(w)
			})
			c, _, ctx := newTestClient(t, f.URL)
			_, err := callAs(ctx, c, http.MethodPatch)
			e := asError(t, err)
			if e.Kind != tt.patchErr || e.StatusCode != tt.status || e.Attempts != 1 {
				t.Fatalf("PATCH: kind %v status %d attempts %d (%v)", e.Kind, e.StatusCode, e.Attempts, e)
			}
			if n := len(f.requests()); n != 1 {
				t.Fatalf("PATCH sent %d times", n)
			}
			// GET: the first failure is retried.
			if _, err := callAs(ctx, c, http.MethodGet); err != nil {
				t.Fatalf("GET not retried: %v", err)
			}
			if n := len(f.requests()); n != 3 {
				t.Fatalf("%d requests after the GET, want 3", n)
			}
		})
	}
}

// TestPatchRetriedAfterDialFailure: a connection that never delivered the
// request is safe to retry, PATCH included.
func TestPatchRetriedAfterDialFailure(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) { writeUser(w) })
	var dials atomic.Int32
	d := &net.Dialer{}
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dials.Add(1) <= 2 {
			return nil, &net.OpError{Op: "dial", Net: network, Err: errors.New("connection refused")}
		}
		return d.DialContext(ctx, network, addr)
	}}}
	c, ns, ctx := newTestClient(t, f.URL, WithHTTPClient(hc))
	if _, err := callAs(ctx, c, http.MethodPatch); err != nil {
		t.Fatal(err)
	}
	if dials.Load() != 3 || len(f.requests()) != 1 || len(ns.recorded()) != 2 {
		t.Fatalf("dials %d, requests %d, waits %v", dials.Load(), len(f.requests()), ns.recorded())
	}
}

func TestUnreachableAfterRetries(t *testing.T) {
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return nil, errors.New("connection refused")
	}}}
	c, _, ctx := newTestClient(t, "http://procore.invalid", WithHTTPClient(hc), WithMaxAttempts(2))
	_, err := callAs(ctx, c, http.MethodPatch)
	if e := asError(t, err); e.Kind != KindUnavailable || e.Attempts != 2 || e.Err == nil {
		t.Fatalf("error %+v", e)
	}
}

// TestCallerDeadline: the caller's deadline ends the call, and errors.Is
// recognises it; a PATCH in flight has an unknown outcome.
func TestCallerDeadline(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		<-r.Context().Done() // answer only when the client gives up
	})
	c, err := New(f.URL)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method string
		kind   ErrorKind
	}{{http.MethodPatch, KindOutcomeUnknown}, {http.MethodGet, KindUnavailable}}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(ContextWithToken(context.Background(), testToken), 200*time.Millisecond)
			defer cancel()
			_, err := callAs(ctx, c, tt.method)
			e := asError(t, err)
			if e.Kind != tt.kind || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("kind %v, err %v", e.Kind, err)
			}
		})
	}
}

func TestResponseSizeCap(t *testing.T) {
	big := `{"id":1001,"notes":"` + strings.Repeat("x", 5000) + `"}`
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.URL.Query().Get("fail") != "" || r.Method == http.MethodPatch {
			w.WriteHeader(http.StatusUnprocessableEntity)
		}
		_, _ = io.WriteString(w, big)
	})
	c, _, ctx := newTestClient(t, f.URL, WithMaxResponseBytes(1000))
	_, err := c.GetCompanyUser(ctx, 8089, 1001)
	e := asError(t, err)
	if e.Kind != KindBadResponse || e.Attempts != 1 || len(e.Body) != 1000 {
		t.Fatalf("GET over the cap: kind %v attempts %d body %d", e.Kind, e.Attempts, len(e.Body))
	}
	_, err = callAs(ctx, c, http.MethodPatch)
	e = asError(t, err)
	if e.Kind != KindStatus || e.StatusCode != 422 || len(e.Body) != 1000 {
		t.Fatalf("error body over the cap: kind %v status %d body %d", e.Kind, e.StatusCode, len(e.Body))
	}
}

func TestCanceledBetweenAttempts(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) { w.WriteHeader(http.StatusServiceUnavailable) })
	c, _, ctx := newTestClient(t, f.URL)
	ctx, cancel := context.WithCancel(ctx)
	c.sleep = func(context.Context, time.Duration) error { cancel(); return context.Canceled }
	_, err := callAs(ctx, c, http.MethodPatch)
	e := asError(t, err)
	if e.StatusCode != 503 || e.Attempts != 1 || !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v", err)
	}
}
