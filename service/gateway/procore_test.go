package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestOnProcoreRoute: the one rule tells the routes apart as the mux
// routed them: /v1 bodies get /v1's checks (JSON only, fields under
// "user"), the Procore route's body goes to its own decoder (multipart
// accepted, fields named from the body's root).
func TestOnProcoreRoute(t *testing.T) {
	if onProcoreRoute(context.Background()) {
		t.Error("a context the mux did not route is on the Procore route")
	}
	h, err := New(context.Background(), unavailableConn{})
	if err != nil {
		t.Fatal(err)
	}
	const form = "--B\r\nContent-Disposition: form-data; name=\"user[city]\"\r\n\r\nSalem\r\n--B--\r\n"
	tests := []struct {
		name, path, contentType, body string
		code                          int
		field                         string
	}{
		{"v1 refuses multipart", "/v1/companies/8089/users/1001", "multipart/form-data; boundary=B", form, http.StatusUnsupportedMediaType, "Content-Type"},
		{"procore takes multipart", "/rest/v1.3/companies/8089/users/1001", "multipart/form-data; boundary=B", form, http.StatusServiceUnavailable, ""},
		{"v1 names fields under user", "/v1/companies/8089/users/1001", "application/json", `{"city":"a","city":"b"}`, http.StatusBadRequest, "user.city"},
		{"procore names fields from the root", "/rest/v1.3/companies/8089/users/1001", "application/json", `{"user":{"city":"a","city":"b"}}`, http.StatusBadRequest, "user.city"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPatch, tt.path, strings.NewReader(tt.body))
			r.Header.Set("Content-Type", tt.contentType)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.code {
				t.Fatalf("HTTP %d, want %d: %s", w.Code, tt.code, w.Body)
			}
			if tt.field == "" {
				return
			}
			if strings.HasPrefix(tt.path, "/rest/") {
				// Procore's shape: the one violation named in the message.
				var body struct{ Errors string }
				if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(body.Errors, "invalid "+tt.field+": ") || strings.Contains(body.Errors, "more violations") {
					t.Errorf("errors %q, want one violation at %s", body.Errors, tt.field)
				}
				return
			}
			var st struct {
				Details []struct {
					FieldViolations []struct{ Field string } `json:"field_violations"`
				} `json:"details"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil {
				t.Fatal(err)
			}
			var fields []string
			for _, d := range st.Details {
				for _, v := range d.FieldViolations {
					fields = append(fields, v.Field)
				}
			}
			if len(fields) != 1 || fields[0] != tt.field {
				t.Errorf("violations at %q, want [%s]", fields, tt.field)
			}
		})
	}
}
