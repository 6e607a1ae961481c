package gateway_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestStrictInput: what a route does not understand is refused, naming the
// field or parameter, and nothing reaches Procore; the well-formed
// requests beside them go through.
func TestStrictInput(t *testing.T) {
	h, fake := newGateway(t)
	const (
		v1      = "/v1/companies/8089/users/1001"
		procore = "/rest/v1.3/companies/8089/users/1001"
		jsonCT  = "application/json"
	)
	tests := []struct {
		name, method, target, contentType, body string
		wantHTTP                                int
		wantField                               string // the one violation's field ("": accepted)
	}{
		{"v1: duplicate key", "PATCH", v1, jsonCT, `{"city":"a","city":"b"}`, 400, "user.city"},
		{"v1: duplicate nested key", "PATCH", v1, jsonCT, `{"city":"a","vendor":{"id":1,"id":2}}`, 400, "user.vendor.id"},
		{"v1: invalid UTF-8", "PATCH", v1, jsonCT, "{\"city\":\"Sa\xfflem\"}", 400, "user.city"},
		{"v1: text/plain", "PATCH", v1, "text/plain", `{"city":"a"}`, 415, "Content-Type"},
		{"v1: form-urlencoded (curl -d without -H)", "PATCH", v1, "application/x-www-form-urlencoded", `{"city":"a"}`, 415, "Content-Type"},
		{"v1: JSON in another charset", "PATCH", v1, "application/json; charset=latin1", `{"city":"a"}`, 415, "Content-Type"},
		{"v1: misspelt update_mask", "PATCH", v1 + "?update_maks=city", jsonCT, `{"city":"a","job_title":"b"}`, 400, "update_maks"},
		{"v1: update_mask twice", "PATCH", v1 + "?update_mask=city&update_mask=job_title", jsonCT, `{"city":"a","job_title":"b"}`, 400, "update_mask"},
		{"v1: update_mask not UTF-8", "PATCH", v1 + "?update_mask=%ff", jsonCT, `{"city":"a"}`, 400, "update_mask"},
		{"v1: GET with a parameter", "GET", v1 + "?fields=city", "", "", 400, "fields"},
		{"v1: NUL in a text field", "PATCH", v1, jsonCT, `{"city":"Sa\u0000lem"}`, 400, "user.city"},
		{"v1: escape in a text field", "PATCH", v1, jsonCT, `{"notes":"a\u001b[31mred"}`, 400, "user.notes"},
		{"v1: DEL in a text field", "PATCH", v1, jsonCT, `{"job_title":"a\u007f"}`, 400, "user.job_title"},
		{"procore: duplicate top-level user", "PATCH", procore, jsonCT, `{"user":{"city":"a"},"user":{"city":"b"}}`, 400, "user"},
		{"procore: duplicate key in user", "PATCH", procore, jsonCT, `{"user":{"city":"a","city":"b"}}`, 400, "user.city"},
		{"procore: invalid UTF-8", "PATCH", procore, jsonCT, "{\"user\":{\"city\":\"\xc3\"}}", 400, "user.city"},
		{"procore: text/plain", "PATCH", procore, "text/plain", `{"user":{"city":"a"}}`, 415, "Content-Type"},
		{"procore: unknown parameter", "PATCH", procore + "?run_configurable_validation=true", jsonCT, `{"user":{"city":"a"}}`, 400, "run_configurable_validation"},
		{"procore: GET with a parameter", "GET", procore + "?view=extended", "", "", 400, "view"},
		// The service's validation of a field value: Procore's 422.
		{"procore: NUL in a text field", "PATCH", procore, jsonCT, `{"user":{"first_name":"\u0000"}}`, 422, "user.first_name"},
		{"healthz with a parameter", "GET", "/healthz?verbose=1", "", "", 400, "verbose"},

		{"v1: accepted", "PATCH", v1 + "?update_mask=city", jsonCT, `{"city":"Salem"}`, 200, ""},
		{"v1: accepted, charset utf-8", "PATCH", v1, "application/json; charset=UTF-8", `{"city":"Salem"}`, 200, ""},
		{"v1: tab, CR and LF are text", "PATCH", v1, jsonCT, `{"notes":"a\tb\r\nc"}`, 200, ""},
		{"v1: GET", "GET", v1, "", "", 200, ""},
		{"procore: accepted", "PATCH", procore + "?run_configurable_validations=false", jsonCT, `{"user":{"city":"Salem"}}`, 200, ""},
		{"procore: GET", "GET", procore, "", "", 200, ""},
		{"healthz", "GET", "/healthz", "", "", 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake.Reset()
			rec, st := serveWith(t, h, tt.method, tt.target, tt.contentType, []byte(tt.body))
			gets, updates := fake.Calls()
			if tt.wantField == "" {
				if rec.Code != tt.wantHTTP {
					t.Fatalf("HTTP %d, want %d: %s", rec.Code, tt.wantHTTP, rec.Body)
				}
				return
			}
			if rec.Code != tt.wantHTTP {
				t.Fatalf("HTTP %d, want %d: %s", rec.Code, tt.wantHTTP, rec.Body)
			}
			if _, ok := st.violations()[tt.wantField]; !ok || len(st.violations()) != 1 {
				t.Errorf("violations %v, want one on %q", st.violations(), tt.wantField)
			}
			if gets+updates != 0 {
				t.Errorf("%d calls reached Procore", gets+updates)
			}
		})
	}
}

// TestStrictMultipart: Procore's multipart body is held to the same rules:
// a field given twice, or not UTF-8, is refused instead of the last one
// winning or U+FFFD being sent.
func TestStrictMultipart(t *testing.T) {
	h, fake := newGateway(t)
	type part struct{ name, value string }
	tests := []struct {
		name      string
		parts     []part
		wantHTTP  int
		wantField string
	}{
		{"duplicate field", []part{{"user[job_title]", "Foreman"}, {"user[job_title]", "Admin"}}, 400, "user.job_title"},
		{"invalid UTF-8", []part{{"user[job_title]", "Fore\xffman"}}, 400, "user.job_title"},
		// The service's validation of a field value: Procore's 422.
		{"control character", []part{{"user[city]", "Sa\x00lem"}}, 422, "user.city"},
		{"accepted", []part{{"user[job_title]", "Foreman"}, {"user[city]", "Salem"}}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake.Reset()
			var body bytes.Buffer
			mw := multipart.NewWriter(&body)
			for _, p := range tt.parts {
				if err := mw.WriteField(p.name, p.value); err != nil {
					t.Fatal(err)
				}
			}
			_ = mw.Close()
			rec, st := serveWith(t, h, "PATCH", "/rest/v1.3/companies/8089/users/1001", mw.FormDataContentType(), body.Bytes())
			_, updates := fake.Calls()
			if tt.wantField == "" {
				if rec.Code != 200 || updates != 1 {
					t.Fatalf("HTTP %d, %d PATCHes: %s", rec.Code, updates, rec.Body)
				}
				return
			}
			if rec.Code != tt.wantHTTP {
				t.Fatalf("HTTP %d, want %d: %s", rec.Code, tt.wantHTTP, rec.Body)
			}
			if _, ok := st.violations()[tt.wantField]; !ok || len(st.violations()) != 1 {
				t.Errorf("violations %v, want one on %q", st.violations(), tt.wantField)
			}
			if updates != 0 {
				t.Errorf("%d PATCHes reached Procore", updates)
			}
		})
	}
}

func serveWith(t *testing.T, h http.Handler, method, target, contentType string, body []byte) (*httptest.ResponseRecorder, restStatus) {
	t.Helper()
	req := httptest.NewRequest(method, target, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var st restStatus
	if rec.Code >= 400 && strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		st = decodeError(t, rec, method, target)
	}
	return rec, st
}
