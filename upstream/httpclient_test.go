package upstream

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestResponseHeaderBounded: a Procore response whose header is larger than
// the limit fails the request as a transport error instead of being held in
// memory (Go's own default would accept 10 MiB), and a header under the
// limit passes.
func TestResponseHeaderBounded(t *testing.T) {
	tests := []struct {
		name     string
		limit    int64 // 0: the default
		header   int
		wantFail bool
	}{
		{name: "default limit, 8 MiB header", header: 8 << 20, wantFail: true},
		{name: "default limit, 80 KiB header", header: 80 << 10, wantFail: true},
		{name: "default limit, 16 KiB header", header: 16 << 10},
		{name: "8 KiB limit, 16 KiB header", limit: 8 << 10, header: 16 << 10, wantFail: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Set("X-Padding", strings.Repeat("a", tt.header))
				writeUser(w)
			})
			c, err := New(f.URL, WithHTTPClient(NewHTTPClient(WithMaxResponseHeaderBytes(tt.limit))), WithMaxAttempts(1))
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.GetCompanyUser(ContextWithToken(context.Background(), "tok"), 1, 2)
			if !tt.wantFail {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var uerr *Error
			if !errors.As(err, &uerr) || uerr.Kind != KindUnavailable {
				t.Fatalf("err %v, want a KindUnavailable *Error", err)
			}
		})
	}
}

// writeCounter counts the writes made on the connections it dials.
type writeCounter struct {
	mu     sync.Mutex
	writes int
}

func (wc *writeCounter) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, wc: wc}, nil
}

func (wc *writeCounter) count() int {
	wc.mu.Lock()
	defer wc.mu.Unlock()
	return wc.writes
}

type countingConn struct {
	net.Conn
	wc *writeCounter
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.wc.mu.Lock()
	c.wc.writes++
	c.wc.mu.Unlock()
	return c.Conn.Write(p)
}

// TestJSONPatchIsOneWrite: a JSON PATCH reaches the connection in one write,
// headers and body together. net/http flushes the headers on their own
// before a body it does not know to be in memory (Go issue 22088); that
// second write, and the second read it costs Procore, was 5 % of a call's
// CPU (BENCHMARKS.md, #15). The body must still arrive whole, and a replay
// (GetBody) must send the same bytes.
func TestJSONPatchIsOneWrite(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) { writeUser(w) })
	var wc writeCounter
	hc := NewHTTPClient()
	hc.Transport.(*http.Transport).DialContext = wc.dial
	c, err := New(f.URL, WithHTTPClient(hc), WithMaxAttempts(1))
	if err != nil {
		t.Fatal(err)
	}
	ctx := ContextWithToken(context.Background(), "tok")
	for i := range 3 {
		req := UpdateRequest{CompanyID: 8089, UserID: 1001}
		req.Patch.SetString("job_title", strings.Repeat("Senior Project Manager ", 10))
		req.Patch.SetBool("is_active", true)
		before := wc.count()
		if _, err := c.UpdateCompanyUser(ctx, req); err != nil {
			t.Fatal(err)
		}
		if got := wc.count() - before; got != 1 {
			t.Errorf("PATCH %d: %d writes on the connection, want 1", i+1, got)
		}
		want := `{"user":{"is_active":true,"job_title":"` + strings.Repeat("Senior Project Manager ", 10) + `"}}`
		if r := f.requests()[i]; string(r.Body) != want || r.ContentLength != int64(len(want)) {
			t.Errorf("PATCH %d: body %q (length %d), want %q", i+1, r.Body, r.ContentLength, want)
		}
	}
}
