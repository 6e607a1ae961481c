package procoretest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// fatalTB records a Fatalf and stops the goroutine as testing.T does, so a
// test can check that a helper fails the test it was given.
type fatalTB struct {
	testing.TB
	ctx      context.Context
	mu       sync.Mutex
	msg      string
	cleanups []func()
}

func (f *fatalTB) Helper()                  {}
func (f *fatalTB) Context() context.Context { return f.ctx }
func (f *fatalTB) Cleanup(fn func())        { f.cleanups = append(f.cleanups, fn) }
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.msg = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}

// runFatal runs fn with a fatalTB and returns its Fatalf message ("" if none).
func runFatal(t *testing.T, fn func(tb testing.TB)) string {
	t.Helper()
	ftb := &fatalTB{ctx: t.Context()}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(ftb)
	}()
	<-done
	for _, c := range ftb.cleanups {
		c()
	}
	ftb.mu.Lock()
	defer ftb.mu.Unlock()
	return ftb.msg
}

func TestNewServerClosesOnCleanup(t *testing.T) {
	var url string
	t.Run("inner", func(t *testing.T) {
		s := NewServer(t)
		url = s.URL
		if code := get(t, s.URL+"/_emulator/requests"); code != http.StatusOK {
			t.Fatalf("running server: %d", code)
		}
		s.Close() // an explicit Close before the Cleanup one is fine
	})
	if _, err := http.Get(url + "/_emulator/requests"); err == nil {
		t.Fatal("server still answers after the test's cleanup")
	}
}

func TestNewServerFailsTheTest(t *testing.T) {
	msg := runFatal(t, func(tb testing.TB) { NewServer(tb, WithHourlyLimit(-1)) })
	if !strings.Contains(msg, "hourly limit -1") {
		t.Fatalf("Fatalf message %q", msg)
	}
	if _, err := Start(WithSeed([]byte("{"))); err == nil {
		t.Fatal("Start accepted a broken seed")
	}
}

func TestToken(t *testing.T) {
	s := NewServer(t)
	admin, ok := s.AdminClient()
	if !ok || !admin.DirectoryAdmin || admin.ClientID != adminClient {
		t.Fatalf("AdminClient %+v %v", admin, ok)
	}
	field, ok := s.NonAdminClient()
	if !ok || field.DirectoryAdmin || field.ClientID != fieldClient {
		t.Fatalf("NonAdminClient %+v %v", field, ok)
	}
	notOAuth := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"token":"x"}`)) }))
	t.Cleanup(notOAuth.Close)
	tests := []struct {
		name     string
		url      string
		client   OAuthClient
		wantFail string // substring of the Fatalf message; "" means success
	}{
		{name: "admin", url: s.TokenURL, client: admin},
		{name: "field", url: s.TokenURL, client: field},
		{name: "wrong secret", url: s.TokenURL, client: OAuthClient{ClientID: adminClient, ClientSecret: "not-the-secret"}, wantFail: "status 401"},
		{name: "not a token endpoint", url: notOAuth.URL, client: admin, wantFail: "no access_token"},
		{name: "no such route", url: s.URL + "/_emulator/requests", client: admin, wantFail: "status 404"},
		{name: "unreachable", url: "http://127.0.0.1:1/oauth/token", client: admin, wantFail: "client \"" + adminClient + "\""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var tok string
			msg := runFatal(t, func(tb testing.TB) { tok = Token(tb, tc.url, tc.client) })
			if tc.wantFail == "" {
				if msg != "" {
					t.Fatalf("failed: %s", msg)
				}
				r := do(t, s, call{method: "GET", path: userPath(summit, 1001), token: tok})
				if r.Code != http.StatusOK {
					t.Fatalf("token does not work: %d %s", r.Code, r.Body)
				}
				return
			}
			if !strings.Contains(msg, tc.wantFail) {
				t.Fatalf("Fatalf message %q, want it to contain %q", msg, tc.wantFail)
			}
			if tc.client.ClientSecret != "" && strings.Contains(msg, tc.client.ClientSecret) {
				t.Fatalf("message leaks the secret: %q", msg)
			}
		})
	}
	if tok := s.Token(t, admin); tok == "" {
		t.Fatal("Server.Token: empty")
	}
}

func TestAdminClientMissing(t *testing.T) {
	seed := `{"oauth_clients":[{"client_id":"c","client_secret":"s","directory_admin":false,"company_ids":[]}],"companies":[]}`
	e := newEmu(t, WithSeed([]byte(seed)))
	if c, ok := e.AdminClient(); ok {
		t.Fatalf("AdminClient %+v in a seed without one", c)
	}
	if c, ok := e.NonAdminClient(); !ok || c.ClientID != "c" {
		t.Fatalf("NonAdminClient %+v %v", c, ok)
	}
}

func get(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
