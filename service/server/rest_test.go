package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"

	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/service/apierr"
	"github.com/procore-directory/procore-directory/service/gateway"
	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

func TestRESTRoutes(t *testing.T) {
	s := startStack(t, withoutRateLimits(), withRequired(service.RequiredFieldsMaskedOnly), withEmulator(procoretest.WithPartialBodies(true)))

	// /v1: the mask is inferred from the JSON keys; null clears.
	code, _, body := s.do(t, http.MethodPatch, "/v1/companies/8089/users/1001", "application/json",
		`{"last_name":"Okafor","email_address":"`+mariaEmail+`","job_title":"Site Lead","notes":null}`)
	if code != http.StatusOK || body["job_title"] != "Site Lead" || body["notes"] != "" {
		t.Fatalf("v1 PATCH: %d %v", code, body)
	}
	// /v1 with ?update_mask: only the named field is sent.
	code, _, _ = s.do(t, http.MethodPatch, "/v1/companies/8089/users/1001?update_mask=city", "application/json",
		`{"city":"Salem","job_title":"ignored"}`)
	if code != http.StatusOK {
		t.Fatalf("v1 PATCH with mask: %d", code)
	}
	// Procore's own route and body, with its query parameter.
	code, _, body = s.do(t, http.MethodPatch, "/rest/v1.3/companies/8089/users/1001?run_configurable_validations=false", "application/json",
		`{"user":{"last_name":"Okafor","email_address":"`+mariaEmail+`","zip":"97301","fax_number":null}}`)
	if code != http.StatusOK {
		t.Fatalf("procore PATCH: %d %v", code, body)
	}
	if body["id"] != json.Number("1001") || body["zip"] != "97301" || body["fax_number"] != "" {
		t.Errorf("procore-shaped response: id %#v zip %v fax %v", body["id"], body["zip"], body["fax_number"])
	}
	// GET.
	code, _, body = s.do(t, http.MethodGet, "/v1/companies/8089/users/1001", "", "")
	if code != http.StatusOK || body["city"] != "Salem" || body["job_title"] != "Site Lead" || body["zip"] != "97301" {
		t.Fatalf("GET: %d %v", code, body)
	}

	want := []string{
		`{"user":{"email_address":"` + mariaEmail + `","job_title":"Site Lead","last_name":"Okafor","notes":""}}`,
		`{"user":{"city":"Salem"}}`,
		`{"user":{"email_address":"` + mariaEmail + `","fax_number":"","last_name":"Okafor","zip":"97301"}}`,
	}
	if got := s.patches(t); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("upstream bodies:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var query string
	for _, r := range s.emu.Requests() {
		if r.Method == http.MethodPatch {
			query = r.Query
		}
	}
	if query != "run_configurable_validations=false" {
		t.Errorf("last PATCH query %q", query)
	}
}

func TestRESTProcoreMultipart(t *testing.T) {
	s := startStack(t, withoutRateLimits(), withRequired(service.RequiredFieldsFill))
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("user[city]", "Eugene")
	_ = mw.WriteField("user[is_active]", "false")
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="user[avatar]"; filename="me.png"`)
	h.Set("Content-Type", "image/png")
	part, _ := mw.CreatePart(h)
	_, _ = part.Write(png1x1)
	_ = mw.Close()

	code, _, body := s.do(t, http.MethodPatch, "/rest/v1.3/companies/8089/users/1001", mw.FormDataContentType(), buf.String())
	if code != http.StatusOK || body["city"] != "Eugene" || body["is_active"] != false || body["avatar"] == nil {
		t.Fatalf("multipart PATCH: %d %v", code, body)
	}
	var got *procoretest.Request
	for _, r := range s.emu.Requests() {
		if r.Method == http.MethodPatch {
			got = &r
		}
	}
	if got == nil || got.Form == nil {
		t.Fatalf("no multipart PATCH upstream: %+v", got)
	}
	wantFields := map[string]string{"user[city]": "Eugene", "user[is_active]": "false", "user[last_name]": "Okafor", "user[email_address]": mariaEmail}
	if len(got.Form.Fields) != len(wantFields) {
		t.Errorf("form fields %v, want %v", got.Form.Fields, wantFields)
	}
	for k, v := range wantFields {
		if got.Form.Fields[k] != v {
			t.Errorf("form field %s = %q, want %q", k, got.Form.Fields[k], v)
		}
	}
	if len(got.Form.Files) != 1 || got.Form.Files[0].Field != "user[avatar]" || got.Form.Files[0].Filename != "me.png" || got.Form.Files[0].Size != int64(len(png1x1)) {
		t.Errorf("files %+v", got.Form.Files)
	}
}

// statusDetails decodes a google.rpc.Status JSON body's details by type.
func statusDetails(t *testing.T, body map[string]any) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	details, _ := body["details"].([]any)
	for _, d := range details {
		m := d.(map[string]any)
		typ := m["@type"].(string)
		out[typ[strings.LastIndex(typ, ".")+1:]] = m
	}
	return out
}

func TestRESTErrors(t *testing.T) {
	s := startStack(t, withoutRateLimits(), withRequired(service.RequiredFieldsMaskedOnly))
	tests := []struct {
		name, method, path, body string
		wantHTTP                 int
		wantReason               string
		wantViolation            string
	}{
		{"unknown user", http.MethodGet, "/v1/companies/8089/users/999", "", http.StatusNotFound, apierr.ReasonUpstreamNotFound, ""},
		{"bad email", http.MethodPatch, "/v1/companies/8089/users/1001", `{"email_address":"nope"}`, http.StatusBadRequest, apierr.ReasonInvalidRequest, "user.email_address"},
		{"unknown json field", http.MethodPatch, "/v1/companies/8089/users/1001", `{"jobtitle":"x"}`, http.StatusBadRequest, apierr.ReasonInvalidRequest, "body"},
		{"data after the object", http.MethodPatch, "/v1/companies/8089/users/1001", `{"city":"x"}0`, http.StatusBadRequest, apierr.ReasonInvalidRequest, "body"},
		{"two objects", http.MethodPatch, "/v1/companies/8089/users/1001", `{"city":"x"} {"notes":"y"}`, http.StatusBadRequest, apierr.ReasonInvalidRequest, "body"},
		{"bad mask", http.MethodPatch, "/v1/companies/8089/users/1001?update_mask=nope", `{"city":"x"}`, http.StatusBadRequest, apierr.ReasonInvalidRequest, "update_mask"},
		{"procore body without user", http.MethodPatch, "/rest/v1.3/companies/8089/users/1001", `{"city":"x"}`, http.StatusBadRequest, apierr.ReasonInvalidRequest, "city"},
		{"procore malformed json", http.MethodPatch, "/rest/v1.3/companies/8089/users/1001", `{"user":`, http.StatusBadRequest, apierr.ReasonInvalidRequest, "body"},
		{"procore bad flag", http.MethodPatch, "/rest/v1.3/companies/8089/users/1001?run_configurable_validations=maybe", `{"user":{"city":"x"}}`, http.StatusBadRequest, apierr.ReasonInvalidRequest, "run_configurable_validations"},
		{"upstream 422", http.MethodPatch, "/v1/companies/8089/users/1001", `{"last_name":"Okafor","email_address":"jun.tanaka@summitridge.example"}`, http.StatusBadRequest, apierr.ReasonUpstreamValidation, "user.email_address"},
		{"non-integer id", http.MethodGet, "/v1/companies/8089/users/abc", "", http.StatusBadRequest, apierr.ReasonInvalidRequest, "id"},
		{"non-integer company on the Procore route", http.MethodGet, "/rest/v1.3/companies/summit/users/1001", "", http.StatusBadRequest, apierr.ReasonInvalidRequest, "company_id"},
		{"avatar in the query", http.MethodPatch, "/v1/companies/8089/users/1001?avatar.content=iVBORw0KGgo%3D", `{"city":"x"}`, http.StatusBadRequest, apierr.ReasonInvalidRequest, "avatar.content"},
		{"wrong method on /v1", http.MethodDelete, "/v1/companies/8089/users/1001", "", http.StatusMethodNotAllowed, apierr.ReasonMethodNotAllowed, ""},
		{"wrong method on the Procore route", http.MethodPost, "/rest/v1.3/companies/8089/users/1001", `{"user":{"city":"x"}}`, http.StatusMethodNotAllowed, apierr.ReasonMethodNotAllowed, ""},
		{"unknown route", http.MethodGet, "/rest/v1.3/companies/8089/projects", "", http.StatusNotFound, apierr.ReasonNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.emu.ResetRequests()
			code, hdr, body := s.do(t, tt.method, tt.path, "application/json", tt.body)
			if code != tt.wantHTTP {
				t.Fatalf("HTTP %d, want %d: %v", code, tt.wantHTTP, body)
			}
			d := statusDetails(t, asStatus(t, tt.path, hdr, body))
			if d["ErrorInfo"] == nil || d["ErrorInfo"]["reason"] != tt.wantReason {
				t.Errorf("ErrorInfo %v, want reason %s", d["ErrorInfo"], tt.wantReason)
			}
			if tt.wantViolation != "" {
				vs, _ := d["BadRequest"]["field_violations"].([]any)
				if len(vs) == 0 || vs[0].(map[string]any)["field"] != tt.wantViolation {
					t.Errorf("BadRequest %v, want a violation on %s", d["BadRequest"], tt.wantViolation)
				}
			}
			if tt.wantReason == apierr.ReasonInvalidRequest && len(s.patches(t)) != 0 {
				t.Errorf("invalid request reached Procore")
			}
			if tt.wantHTTP == http.StatusMethodNotAllowed || tt.wantHTTP == http.StatusNotFound && tt.wantReason == apierr.ReasonNotFound {
				if n := len(s.emu.Requests()); n != 0 {
					t.Errorf("a routing error sent %d requests to Procore", n)
				}
			}
		})
	}
}

func TestOpenAPIAndHealth(t *testing.T) {
	s := startStack(t, withoutRateLimits(), withRequired(service.RequiredFieldsFill))
	for _, d := range []struct{ path, versionKey, version string }{
		{"/openapi.json", "swagger", "2.0"},
		{"/openapi.v3.json", "openapi", "3.0"},
	} {
		code, _, doc := s.do(t, http.MethodGet, d.path, "", "")
		if code != http.StatusOK {
			t.Fatalf("%s: %d", d.path, code)
		}
		if v, _ := doc[d.versionKey].(string); !strings.HasPrefix(v, d.version) {
			t.Errorf("%s: %s %q, want %s", d.path, d.versionKey, v, d.version)
		}
		paths, _ := doc["paths"].(map[string]any)
		for _, p := range []string{"/v1/companies/{company_id}/users/{id}", "/rest/v1.3/companies/{company_id}/users/{id}"} {
			if paths[p] == nil {
				t.Errorf("%s lacks %s", d.path, p)
			}
		}
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if code, _, _ := s.do(t, http.MethodGet, p, "", ""); code != http.StatusOK {
			t.Errorf("%s: %d", p, code)
		}
	}
}

// TestRESTOversizedBodyAndNotReady covers the gateway's own refusals: a body
// past DefaultMaxBodyBytes is rejected before any upstream call, and
// /readyz turns 503 once the gRPC server has shut down.
func TestRESTOversizedBodyAndNotReady(t *testing.T) {
	s := startStack(t, withoutRateLimits(), withRequired(service.RequiredFieldsMaskedOnly))
	big := `{"notes":"` + strings.Repeat("x", gateway.DefaultMaxBodyBytes) + `"}`
	code, _, body := s.do(t, http.MethodPatch, "/v1/companies/8089/users/1001", "application/json", big)
	if code != http.StatusBadRequest || statusDetails(t, body)["BadRequest"] == nil {
		t.Errorf("oversized body: HTTP %d %v", code, body["message"])
	}
	if n := len(s.emu.Requests()); n != 0 {
		t.Errorf("%d upstream requests for an oversized body", n)
	}
	s.srv.Shutdown(context.Background())
	if code, _, _ := s.do(t, http.MethodGet, "/readyz", "", ""); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz after shutdown: %d, want 503", code)
	}
}

// TestIdempotencyKeyHeader: both REST PATCH routes take Idempotency-Key;
// a repeat is answered without another PATCH, and a different body under
// the same key is 400 naming request_id.
func TestIdempotencyKeyHeader(t *testing.T) {
	routes := []struct{ path, body, other string }{
		{"/v1/companies/8089/users/1001", `{"job_title":"Keyed"}`, `{"job_title":"Other"}`},
		{"/rest/v1.3/companies/8089/users/1001", `{"user":{"job_title":"Keyed"}}`, `{"user":{"job_title":"Other"}}`},
	}
	for _, r := range routes {
		t.Run(r.path, func(t *testing.T) {
			s := startStack(t, withoutRateLimits(), withRequired(service.RequiredFieldsMaskedOnly), withEmulator(procoretest.WithPartialBodies(true)))
			const key = "3b2a1f0e-9d8c-4b7a-8f6e-5d4c3b2a1f0e"
			for i := range 2 {
				if code, _, _ := s.do(t, http.MethodPatch, r.path, "application/json", r.body, "Idempotency-Key", key); code != http.StatusOK {
					t.Fatalf("call %d: HTTP %d", i, code)
				}
			}
			if n := len(s.patches(t)); n != 1 {
				t.Fatalf("%d PATCHes for one Idempotency-Key, want 1", n)
			}
			code, _, out := s.do(t, http.MethodPatch, r.path, "application/json", r.other, "Idempotency-Key", key)
			if code != http.StatusBadRequest || !strings.Contains(fmt.Sprint(out), "request_id") {
				t.Fatalf("other body, same key: HTTP %d %v", code, out)
			}
		})
	}
}
