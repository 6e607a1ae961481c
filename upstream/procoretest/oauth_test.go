package procoretest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestTokenEndpoint(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		form       url.Values
		basic      [2]string
		jsonBody   string
		wantStatus int
		wantError  string
	}{
		{name: "form credentials", method: "POST", form: url.Values{"grant_type": {"client_credentials"}, "client_id": {adminClient}, "client_secret": {"admin-secret-4f2a"}}, wantStatus: 200},
		{name: "basic credentials", method: "POST", form: url.Values{"grant_type": {"client_credentials"}}, basic: [2]string{fieldClient, "field-secret-91c7"}, wantStatus: 200},
		{name: "json body", method: "POST", jsonBody: `{"grant_type":"client_credentials","client_id":"field-app","client_secret":"field-secret-91c7"}`, wantStatus: 200},
		{name: "wrong secret", method: "POST", form: url.Values{"grant_type": {"client_credentials"}, "client_id": {adminClient}, "client_secret": {"nope"}}, wantStatus: 401, wantError: "invalid_client"},
		{name: "unknown client", method: "POST", form: url.Values{"grant_type": {"client_credentials"}, "client_id": {"ghost"}, "client_secret": {"x"}}, wantStatus: 401, wantError: "invalid_client"},
		{name: "no credentials", method: "POST", form: url.Values{"grant_type": {"client_credentials"}}, wantStatus: 401, wantError: "invalid_client"},
		{name: "other grant", method: "POST", form: url.Values{"grant_type": {"password"}, "client_id": {adminClient}, "client_secret": {"admin-secret-4f2a"}}, wantStatus: 400, wantError: "unsupported_grant_type"},
		{name: "refresh grant", method: "POST", form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "client_id": {adminClient}, "client_secret": {"admin-secret-4f2a"}}, wantStatus: 400, wantError: "unsupported_grant_type"},
		{name: "GET is not a route", method: "GET", wantStatus: 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := newClock()
			e := newEmu(t, WithClock(clock.Now))
			var r *http.Request
			if tc.jsonBody != "" {
				r = httptest.NewRequest(tc.method, "/oauth/token", strings.NewReader(tc.jsonBody))
				r.Header.Set("Content-Type", "application/json")
			} else {
				r = httptest.NewRequest(tc.method, "/oauth/token", strings.NewReader(tc.form.Encode()))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			if tc.basic[0] != "" {
				r.SetBasicAuth(tc.basic[0], tc.basic[1])
			}
			w := httptest.NewRecorder()
			e.ServeHTTP(w, r)
			if w.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.wantStatus, w.Body)
			}
			if w.Header().Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}
			if tc.wantStatus == 200 {
				var tok struct {
					AccessToken  string  `json:"access_token"`
					TokenType    string  `json:"token_type"`
					ExpiresIn    int64   `json:"expires_in"`
					CreatedAt    int64   `json:"created_at"`
					RefreshToken *string `json:"refresh_token"`
				}
				if err := json.Unmarshal(w.Body.Bytes(), &tok); err != nil {
					t.Fatal(err)
				}
				if tok.AccessToken == "" || tok.TokenType != "bearer" || tok.ExpiresIn != 5400 || tok.CreatedAt != clock.Now().Unix() || tok.RefreshToken != nil {
					t.Fatalf("token response %s", w.Body)
				}
				api := do(t, e, call{method: "GET", path: userPath(summit, 1001), token: tok.AccessToken})
				if api.Code != 200 {
					t.Fatalf("token does not work: %d %s", api.Code, api.Body)
				}
				reqs := e.Requests()
				if reqs[0].Path != "/oauth/token" || reqs[0].ClientID == "" || reqs[0].RawBody != "" || reqs[0].Body != nil {
					t.Errorf("token request log entry %+v: want client id, no body", reqs[0])
				}
				return
			}
			if tc.wantError != "" {
				if got := decode(t, w.Body.Bytes())["error"]; got != tc.wantError {
					t.Fatalf("error %v, want %s", got, tc.wantError)
				}
			}
		})
	}
}

func TestTokensAreRandomAndExpire(t *testing.T) {
	clock := newClock()
	e := newEmu(t, WithClock(clock.Now), WithTokenTTL(time.Minute))
	a, b := mustToken(t, e, adminClient), mustToken(t, e, adminClient)
	if a == b || len(a) < 32 {
		t.Fatalf("tokens not random/opaque: %q %q", a, b)
	}
	get := func(tok string) (int, map[string]any) {
		w := do(t, e, call{method: "GET", path: userPath(summit, 1001), token: tok})
		return w.Code, decode(t, w.Body.Bytes())
	}
	if code, _ := get(a); code != 200 {
		t.Fatalf("fresh token: %d", code)
	}
	clock.Advance(time.Minute - time.Second)
	if code, _ := get(a); code != 200 {
		t.Fatalf("token before TTL: %d", code)
	}
	clock.Advance(time.Second)
	code, body := get(a)
	if code != 401 || body["error"] != "invalid_token" || !strings.Contains(body["error_description"].(string), "expired") {
		t.Fatalf("expired token: %d %v", code, body)
	}
	c := mustToken(t, e, fieldClient)
	e.ExpireTokens()
	if code, _ := get(c); code != 401 {
		t.Fatalf("after ExpireTokens: %d", code)
	}
	if _, err := e.IssueToken("ghost"); err == nil {
		t.Fatal("IssueToken(ghost) succeeded")
	}
}

func TestClients(t *testing.T) {
	e := newEmu(t)
	cs := e.Clients()
	if len(cs) != 2 || cs[0].ClientID != adminClient || !cs[0].DirectoryAdmin || cs[0].ClientSecret != "admin-secret-4f2a" ||
		len(cs[0].CompanyIDs) != 2 || cs[1].DirectoryAdmin || cs[1].CompanyIDs[0] != 8089 {
		t.Fatalf("Clients() = %+v", cs)
	}
	cs[0].CompanyIDs[0] = 1
	if e.Clients()[0].CompanyIDs[0] != 8089 {
		t.Fatal("Clients returned shared slices")
	}
}
