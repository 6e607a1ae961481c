package upstream

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2/clientcredentials"
)

// tokenServer issues tok-1, tok-2, ... valid for lifetime; gate, when set,
// holds each token request until closed.
type tokenServer struct {
	*httptest.Server
	fetches  atomic.Int32
	lifetime int
	gate     chan struct{}
	fail     bool
}

func newTokenServer(t *testing.T, lifetime int) *tokenServer {
	ts := &tokenServer{lifetime: lifetime}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.Form.Get("grant_type") != "client_credentials" {
			http.Error(w, "bad grant", http.StatusBadRequest)
			return
		}
		if ts.fail {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":"invalid_client","error_description":"client secret s3cret-value is wrong"}`)
			return
		}
		if ts.gate != nil {
			<-ts.gate
		}
		n := ts.fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"tok-%d","token_type":"bearer","expires_in":%d,"created_at":%d}`, n, ts.lifetime, time.Now().Unix())
	}))
	t.Cleanup(ts.Close)
	return ts
}

func ccConfig(ts *tokenServer) clientcredentials.Config {
	return clientcredentials.Config{ClientID: "svc-client", ClientSecret: "s3cret-value", TokenURL: ts.URL + "/oauth/token"}
}

func TestClientCredentialsOneFetchForConcurrentCallers(t *testing.T) {
	ts := newTokenServer(t, 5400)
	ts.gate = make(chan struct{})
	src := ClientCredentials(ccConfig(ts))
	const callers = 32
	var started, wg sync.WaitGroup
	started.Add(callers)
	creds := make([]Credential, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			started.Done()
			creds[i], errs[i] = src.Credential(context.Background())
		}()
	}
	started.Wait()
	close(ts.gate)
	wg.Wait()
	for i := range callers {
		if errs[i] != nil || creds[i].Token != "tok-1" || creds[i].ID != "svc-client" {
			t.Fatalf("caller %d: %+v %v", i, creds[i], errs[i])
		}
	}
	if n := ts.fetches.Load(); n != 1 {
		t.Fatalf("%d token fetches, want 1", n)
	}
}

func TestClientCredentialsRefreshBeforeExpiry(t *testing.T) {
	ts := newTokenServer(t, 3600)
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	src := ClientCredentials(ccConfig(ts), WithTokenClock(clock), WithRefreshBefore(time.Minute))
	steps := []struct {
		advance time.Duration
		want    string
	}{
		{0, "tok-1"},
		{50 * time.Minute, "tok-1"},
		{8 * time.Minute, "tok-1"},  // 58 min: 2 min left
		{90 * time.Second, "tok-2"}, // 59.5 min: inside the 60 s margin
		{30 * time.Minute, "tok-2"}, // the new token's own clock
		{30*time.Minute + time.Second, "tok-3"},
	}
	for i, s := range steps {
		advance(s.advance)
		cred, err := src.Credential(context.Background())
		if err != nil || cred.Token != s.want {
			t.Fatalf("step %d: %q %v, want %q", i, cred.Token, err, s.want)
		}
	}
}

// TestRefreshAfter401: Procore rejects the cached token; the client
// invalidates it, fetches a new one once, and replays the PATCH once.
func TestRefreshAfter401(t *testing.T) {
	ts := newTokenServer(t, 5400)
	var rejectAll atomic.Bool
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if rejectAll.Load() || r.Header.Get("Authorization") == "Bearer tok-1" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":"invalid_token","error_description":"The access token expired"}`)
			return
		}
		writeUser(w)
	})
	c, _, ctx := newTestClient(t, f.URL, WithTokenSource(ClientCredentials(ccConfig(ts))))
	if _, err := callAs(ctx, c, http.MethodPatch); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if len(reqs) != 2 || ts.fetches.Load() != 2 {
		t.Fatalf("%d requests, %d token fetches; want 2 and 2", len(reqs), ts.fetches.Load())
	}
	if reqs[1].Header.Get("Authorization") != "Bearer tok-2" || string(reqs[1].Body) != string(reqs[0].Body) {
		t.Fatalf("replay: %v %s", reqs[1].Header.Get("Authorization"), reqs[1].Body)
	}

	// A token Procore keeps rejecting: refreshed once, then the 401 stands.
	rejectAll.Store(true)
	_, err := callAs(ctx, c, http.MethodGet)
	e := asError(t, err)
	if e.Kind != KindStatus || e.StatusCode != 401 || e.Attempts != 2 || !strings.Contains(e.Message, "invalid_token") {
		t.Fatalf("error %+v", e)
	}
	if n := len(f.requests()); n != 4 {
		t.Fatalf("%d requests, want 4", n)
	}
}

func TestPassThrough401NotRetried(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":"invalid_token","error_description":"expired"}`)
	})
	c, _, ctx := newTestClient(t, f.URL)
	_, err := callAs(ctx, c, http.MethodPatch)
	if e := asError(t, err); e.StatusCode != 401 || e.Attempts != 1 || len(f.requests()) != 1 {
		t.Fatalf("error %+v, %d requests", e, len(f.requests()))
	}
}

func TestTokenEndpointFailure(t *testing.T) {
	ts := newTokenServer(t, 5400)
	ts.fail = true
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) { writeUser(w) })
	c, _, ctx := newTestClient(t, f.URL, WithTokenSource(ClientCredentials(ccConfig(ts))))
	_, err := callAs(ctx, c, http.MethodGet)
	e := asError(t, err)
	if e.Kind != KindUnavailable || len(f.requests()) != 0 {
		t.Fatalf("error %+v, %d requests", e, len(f.requests()))
	}
	if s := err.Error(); strings.Contains(s, "s3cret") || !strings.Contains(s, "invalid_client") {
		t.Fatalf("error text %q", s)
	}
}
