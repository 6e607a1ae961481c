package upstream

import (
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestStatusErrors: every error of the contract's table becomes an *Error
// with the status, Procore's message, field errors and request id, and is
// not retried (the statuses here are all final).
func TestStatusErrors(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		ctype      string
		body       string
		wantMsg    string
		wantFields []FieldError
	}{
		{"400 missing header", 400, "text/plain", "Missing Procore-Company-Id header!", "Missing Procore-Company-Id header!", nil},
		{"400 required", 400, "application/json", `{"errors": {"last_name": ["can't be blank"]}}`, "last_name can't be blank", []FieldError{{"last_name", []string{"can't be blank"}}}},
		{"403 admin field", 403, "application/json", `{"errors": "You do not have permission to change email_address"}`, "You do not have permission to change email_address", nil},
		{"403 plain", 403, "text/plain", "App is not connected to this company", "App is not connected to this company", nil},
		{"404", 404, "application/json", `{"errors": "Not Found"}`, "Not Found", nil},
		{"409", 409, "application/json", `{"error":{"code":"conflict","message":"Stale record","details":[]}}`, "Stale record", nil},
		{"422 redacted", 422, "application/json", `{"errors": {"email_address": ["ana@example.com has already been taken"], "mobile_phone": ["+1 555 010 9999 is invalid"]}}`,
			"email_address [email] has already been taken; mobile_phone [phone] is invalid",
			[]FieldError{{"email_address", []string{"[email] has already been taken"}}, {"mobile_phone", []string{"[phone] is invalid"}}}},
		{"422 flat", 422, "application/json", `{"code":"invalid","message":"Validation failed","fields":{"vendor_id":["does not exist"]},"reason":"bad vendor"}`,
			"Validation failed; bad vendor", []FieldError{{"vendor_id", []string{"does not exist"}}}},
		{"418 empty", 418, "", "", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Set("X-Request-Id", "req-42")
				w.Header().Set("X-Rate-Limit-Limit", "3600")
				w.Header().Set("X-Rate-Limit-Remaining", "3000")
				w.Header().Set("X-Rate-Limit-Reset", "1900000000")
				if tt.ctype != "" {
					w.Header().Set("Content-Type", tt.ctype)
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			})
			c, _, ctx := newTestClient(t, f.URL)
			for _, method := range []string{"GET", "PATCH"} {
				var err error
				if method == "GET" {
					_, err = c.GetCompanyUser(ctx, 8089, 1001)
				} else {
					req := UpdateRequest{CompanyID: 8089, UserID: 1001}
					req.Patch.SetString("last_name", "Diaz")
					_, err = c.UpdateCompanyUser(ctx, req)
				}
				e := asError(t, err)
				if e.Kind != KindStatus || e.StatusCode != tt.status || e.Message != tt.wantMsg || e.RequestID != "req-42" || e.Attempts != 1 {
					t.Errorf("%s: kind %v status %d message %q request id %q attempts %d", method, e.Kind, e.StatusCode, e.Message, e.RequestID, e.Attempts)
				}
				if !reflect.DeepEqual(e.FieldErrors, tt.wantFields) {
					t.Errorf("%s: fields %#v, want %#v", method, e.FieldErrors, tt.wantFields)
				}
				if string(e.Body) != tt.body {
					t.Errorf("%s: raw body %q", method, e.Body)
				}
				want := RateLimit{Limit: 3600, Remaining: 3000, Reset: time.Unix(1900000000, 0), Known: true}
				if e.RateLimit != want {
					t.Errorf("%s: rate limit %+v", method, e.RateLimit)
				}
				if s := e.Error(); strings.Contains(s, "ana@") || strings.Contains(s, "555 010") || strings.Contains(s, testToken) || (tt.body != "" && strings.Contains(s, tt.body) && tt.status == 422) {
					t.Errorf("%s: Error() leaks: %s", method, s)
				}
			}
			if n := len(f.requests()); n != 2 {
				t.Fatalf("%d requests, want 2 (no retries)", n)
			}
		})
	}
}

func TestErrorStringNeverLeaks(t *testing.T) {
	const secret = "client-secret-XYZ"
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.WriteHeader(http.StatusUnauthorized)
		// A misbehaving server echoing the token, an e-mail and a phone.
		_, _ = io.WriteString(w, `{"error":"invalid_token","error_description":"token `+testToken+` of ana@example.com (555) 010-9999 rejected"}`)
	})
	c, _, ctx := newTestClient(t, f.URL)
	_, err := c.GetCompanyUser(ctx, 1, 2)
	e := asError(t, err)
	for _, s := range []string{err.Error(), e.Message} {
		for _, bad := range []string{testToken, "ana@example.com", "010-9999", secret} {
			if strings.Contains(s, bad) {
				t.Errorf("%q contains %q", s, bad)
			}
		}
	}
	if !strings.Contains(e.Message, "invalid_token") {
		t.Errorf("message lost: %q", e.Message)
	}
}

func TestErrorUnwrapAndKinds(t *testing.T) {
	for k := KindStatus; k <= KindInvalidRequest; k++ {
		if strings.HasPrefix(k.String(), "ErrorKind(") {
			t.Errorf("kind %d has no name", k)
		}
	}
	e := &Error{Op: opUpdate, Kind: KindOutcomeUnknown, StatusCode: 504}
	if s := e.Error(); !strings.Contains(s, "outcome unknown") || !strings.Contains(s, "read the record back") {
		t.Errorf("outcome-unknown text %q", s)
	}
}
