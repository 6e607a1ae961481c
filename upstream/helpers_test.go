package upstream

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// seen is one request the fake Procore received.
type seen struct {
	Method, Path, Query string
	Header              http.Header
	Body                []byte
	ContentLength       int64
	TransferEncoding    []string
	At                  time.Time
}

// fakeProcore is an httptest server whose answers the test scripts.
type fakeProcore struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

// newFake starts a server calling handle with the request number (1-based)
// after recording the request and reading its body (which r.Body then
// reads again).
func newFake(t testing.TB, handle func(w http.ResponseWriter, r *http.Request, n int)) *fakeProcore {
	t.Helper()
	f := &fakeProcore{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body)) // the handler may read it too
		f.mu.Lock()
		f.reqs = append(f.reqs, seen{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body, ContentLength: r.ContentLength, TransferEncoding: r.TransferEncoding, At: time.Now()})
		n := len(f.reqs)
		f.mu.Unlock()
		handle(w, r, n)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeProcore) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.reqs...)
}

// noSleep replaces the client's waiting with a recorder, so tests of retry
// delays run instantly and can assert the delays chosen.
// It also keeps the client's clock, advanced by each wait.
type noSleep struct {
	mu     sync.Mutex
	delays []time.Duration
	offset time.Duration
}

func (s *noSleep) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.delays = append(s.delays, d)
	s.offset += d
	s.mu.Unlock()
	return ctx.Err()
}

func (s *noSleep) now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Now().Add(s.offset)
}

func (s *noSleep) recorded() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.delays...)
}

const (
	testToken = "s3cr3t-t0ken-abcdef0123456789"
	userJSON  = `{"id":1001,"name":"Ana Diaz","first_name":"Ana","last_name":"Diaz","email_address":"ana@example.com","is_active":true,"vendor":{"id":77,"name":"Acme"},"business_phone_extension":"12","employee_id":4411,"created_at":"2024-01-02T03:04:05Z","updated_at":null,"unknown_field":{"x":[1,2]}}`
)

// newTestClient returns a client for f with the pass-through token in ctx,
// instant retries and a recorder of waits.
func newTestClient(t testing.TB, url string, opts ...Option) (*Client, *noSleep, context.Context) {
	t.Helper()
	c, err := New(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ns := &noSleep{}
	c.sleep = ns.sleep
	c.now = ns.now
	c.jitter = func(n int64) int64 { return n - 1 }
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c, ns, ContextWithToken(ctx, testToken)
}

func writeUser(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, userJSON)
}

func asError(t *testing.T, err error) *Error {
	t.Helper()
	if err == nil {
		t.Fatal("want an error, got nil")
	}
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("error %T %v, want *Error", err, err)
	}
	return e
}
