package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/service/apierr"
	"github.com/procore-directory/procore-directory/service/gateway"
	"github.com/procore-directory/procore-directory/service/servicetest"
	"github.com/procore-directory/procore-directory/upstream"
	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

func ptr[T any](v T) *T { return &v }

var png1x1 = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")

const (
	mariaEmail = "maria.okafor@summitridge.example"
)

func TestGRPCUpdateAndGet(t *testing.T) {
	tests := []struct {
		name     string
		required service.RequiredFieldsMode
		req      *directoryv1.UpdateCompanyUserRequest
		wantBody string
		check    func(t *testing.T, u *directoryv1.CompanyUser)
	}{
		{
			name:     "one field, fill",
			required: service.RequiredFieldsFill,
			req: &directoryv1.UpdateCompanyUserRequest{CompanyId: 8089, Id: 1001,
				User:       &directoryv1.CompanyUser{JobTitle: ptr("Senior PM"), City: ptr("not masked")},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"job_title"}}},
			wantBody: `{"user":{"email_address":"` + mariaEmail + `","job_title":"Senior PM","last_name":"Okafor"}}`,
			check: func(t *testing.T, u *directoryv1.CompanyUser) {
				if u.GetJobTitle() != "Senior PM" || u.GetCity() != "Portland" || u.GetId() != 1001 {
					t.Errorf("user %v", u)
				}
			},
		},
		{
			name:     "clear masked unset fields, masked-only",
			required: service.RequiredFieldsMaskedOnly,
			req: &directoryv1.UpdateCompanyUserRequest{CompanyId: 8089, Id: 1001,
				User:       &directoryv1.CompanyUser{LastName: ptr("Okafor-Reyes"), EmailAddress: ptr(mariaEmail)},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"last_name", "email_address", "notes", "business_phone_extension"}}},
			wantBody: `{"user":{"business_phone_extension":null,"email_address":"` + mariaEmail + `","last_name":"Okafor-Reyes","notes":""}}`,
			check: func(t *testing.T, u *directoryv1.CompanyUser) {
				if u.GetNotes() != "" || u.Notes == nil || u.BusinessPhoneExtension != nil || u.GetName() != "Maria Okafor-Reyes" {
					t.Errorf("user %v", u)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startStack(t, withoutRateLimits(), withRequired(tt.required))
			u, err := s.client.UpdateCompanyUser(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.patches(t); len(got) != 1 || got[0] != tt.wantBody {
				t.Fatalf("upstream PATCH bodies %q\nwant %q", got, tt.wantBody)
			}
			tt.check(t, u)
			again, err := s.client.GetCompanyUser(context.Background(), &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: 1001})
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, again)
		})
	}
}

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
			code, _, body := s.do(t, tt.method, tt.path, "application/json", tt.body)
			if code != tt.wantHTTP {
				t.Fatalf("HTTP %d, want %d: %v", code, tt.wantHTTP, body)
			}
			d := statusDetails(t, body)
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

func TestPassThroughAuth(t *testing.T) {
	s := startStack(t, withoutRateLimits(), withPassThrough(), withRequired(service.RequiredFieldsMaskedOnly))
	ctx := context.Background()
	_, err := s.client.GetCompanyUser(ctx, &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: 1001})
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("no token: %v", err)
	}
	if n := len(s.emu.Requests()); n != 0 {
		t.Fatalf("%d upstream requests without a token", n)
	}
	code, _, _ := s.do(t, http.MethodGet, "/v1/companies/8089/users/1001", "", "")
	if code != http.StatusUnauthorized {
		t.Fatalf("REST without token: %d", code)
	}

	field, err := s.emu.IssueToken("field-app")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.client.GetCompanyUser(withToken(ctx, field), &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: 1001}); err != nil {
		t.Fatalf("with token: %v", err)
	}
	code, _, _ = s.do(t, http.MethodGet, "/v1/companies/8089/users/1001", "", "", "Authorization", "Bearer "+field)
	if code != http.StatusOK {
		t.Fatalf("REST with token: %d", code)
	}
	// field-app is no Directory Admin: Procore refuses an e-mail change.
	_, err = s.client.UpdateCompanyUser(withToken(ctx, field), &directoryv1.UpdateCompanyUserRequest{CompanyId: 8089, Id: 1001,
		User: &directoryv1.CompanyUser{LastName: ptr("Okafor"), EmailAddress: ptr("maria@elsewhere.example")}})
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("admin-only change: %v", err)
	}
	if strings.Contains(err.Error(), field) || strings.Contains(err.Error(), "maria@elsewhere.example") {
		t.Errorf("error leaks a token or e-mail: %v", err)
	}
	// Company 5120 is not connected to field-app.
	_, err = s.client.GetCompanyUser(withToken(ctx, field), &directoryv1.GetCompanyUserRequest{CompanyId: 5120, Id: 2001})
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("other company: %v", err)
	}
	// An unknown token is Procore's 401.
	_, err = s.client.GetCompanyUser(withToken(ctx, "forged"), &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: 1001})
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("forged token: %v", err)
	}
}

func TestUpstreamFailures(t *testing.T) {
	update := &directoryv1.UpdateCompanyUserRequest{CompanyId: 8089, Id: 1001,
		User: &directoryv1.CompanyUser{LastName: ptr("Okafor"), EmailAddress: ptr(mariaEmail), City: ptr("Bend")}}
	tests := []struct {
		name        string
		faults      []procoretest.Fault
		wantCode    codes.Code
		wantReason  string
		wantPatches int
	}{
		{"503 is retried", []procoretest.Fault{procoretest.FaultStatus(503, "text/plain", "busy", http.Header{"Retry-After": {"0"}})}, codes.OK, "", 2},
		{"429 is retried", []procoretest.Fault{procoretest.FaultStatus(429, "text/plain", "You have surpassed the max number of requests for an hour. Please wait until your limit resets.", http.Header{"Retry-After": {"0"}})}, codes.OK, "", 2},
		{"502 is not replayed; read back: not applied", []procoretest.Fault{procoretest.FaultStatus(502, "text/html", "<html>bad gateway</html>", nil)}, codes.Aborted, apierr.ReasonUpstreamNotApplied, 1},
		{"dropped after apply is not replayed; read back: applied", []procoretest.Fault{procoretest.FaultDropAfterApply()}, codes.OK, "", 1},
		{"500 is not replayed; read back: not applied", []procoretest.Fault{procoretest.FaultStatus(500, "", "", nil)}, codes.Aborted, apierr.ReasonUpstreamNotApplied, 1},
		{"500 after apply; read back: applied", []procoretest.Fault{procoretest.FaultApplyThenStatus(500)}, codes.OK, "", 1},
		{"malformed 200; read back: applied", []procoretest.Fault{procoretest.FaultMalformed()}, codes.OK, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startStack(t, withoutRateLimits(), withRequired(service.RequiredFieldsMaskedOnly))
			s.emu.Script(tt.faults...)
			_, err := s.client.UpdateCompanyUser(context.Background(), update)
			st := status.Convert(err)
			if st.Code() != tt.wantCode {
				t.Fatalf("code %v (%v), want %v", st.Code(), err, tt.wantCode)
			}
			if tt.wantReason != "" {
				var reason string
				for _, d := range st.Details() {
					if info, ok := d.(*errdetails.ErrorInfo); ok {
						reason = info.GetReason()
					}
				}
				if reason != tt.wantReason {
					t.Errorf("reason %q, want %q", reason, tt.wantReason)
				}
			}
			if got := len(s.patches(t)); got != tt.wantPatches {
				t.Errorf("%d PATCHes reached Procore, want %d", got, tt.wantPatches)
			}
		})
	}
}

func TestRateLimitedCallerGetsRetryInfo(t *testing.T) {
	s := startStack(t, withoutRateLimits(), withRequired(service.RequiredFieldsMaskedOnly), withEmulator(procoretest.WithSpikeLimit(2)))
	get := &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: 1001}
	var err error
	for range 4 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err = s.client.GetCompanyUser(ctx, get)
		cancel()
		if err != nil {
			break
		}
	}
	st := status.Convert(err)
	if st.Code() != codes.ResourceExhausted {
		t.Fatalf("after the spike limit: %v", err)
	}
	var retry *errdetails.RetryInfo
	for _, d := range st.Details() {
		if r, ok := d.(*errdetails.RetryInfo); ok {
			retry = r
		}
	}
	if retry == nil || retry.GetRetryDelay().AsDuration() <= 0 || retry.GetRetryDelay().AsDuration() > 11*time.Second {
		// The spike window is 10 s; X-Rate-Limit-Reset has whole seconds.
		t.Errorf("RetryInfo %v", retry)
	}
	code, header, _ := s.do(t, http.MethodGet, "/v1/companies/8089/users/1001", "", "", "Grpc-Timeout", "1S")
	if code != http.StatusTooManyRequests || header.Get("Retry-After") == "" {
		t.Errorf("REST: %d Retry-After %q", code, header.Get("Retry-After"))
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

// TestRESTProcoreGetMatchesEmulatorShow: GET on the Procore-compatible
// route answers what Procore's own show answers for the same user, field
// by field wherever a field exists in both (numbers as numbers, nulls as
// nulls, nested objects alike, timestamps as the same instant).
func TestRESTProcoreGetMatchesEmulatorShow(t *testing.T) {
	s := startStack(t, withoutRateLimits(), withRequired(service.RequiredFieldsFill))
	admin, _ := s.emu.AdminClient()
	token, err := s.emu.IssueToken(admin.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	// One user changed through the service first: set and cleared fields.
	if code, _, body := s.do(t, http.MethodPatch, "/rest/v1.3/companies/8089/users/1002?update_mask=city,notes", "application/json",
		`{"user":{"city":"Salem","notes":null}}`); code != http.StatusOK {
		t.Fatalf("PATCH: %d %v", code, body)
	}
	tests := []struct {
		company, id string
	}{{"8089", "1001"}, {"8089", "1002"}, {"8089", "1004"}, {"5120", "2001"}}
	for _, tt := range tests {
		t.Run(tt.company+"/"+tt.id, func(t *testing.T) {
			path := "/rest/v1.3/companies/" + tt.company + "/users/" + tt.id
			code, _, ours := s.do(t, http.MethodGet, path, "", "")
			if code != http.StatusOK {
				t.Fatalf("GET through the service: %d %v", code, ours)
			}
			theirs := emulatorShow(t, s, path, tt.company, token)
			if n := compareProcoreJSON(t, "", ours, theirs); n < 20 {
				t.Errorf("only %d fields in common: %v vs %v", n, ours, theirs)
			}
		})
	}
}

// emulatorShow is Procore's own answer to GET path, asked directly.
func emulatorShow(t *testing.T, s *stack, path, company, token string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.emu.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Procore-Company-Id", company)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("emulator show: %d %v", resp.StatusCode, err)
	}
	return out
}

// compareProcoreJSON reports every field of both objects whose values
// differ (recursing into objects present in both) and returns how many
// leaf fields were compared.
func compareProcoreJSON(t *testing.T, prefix string, ours, theirs map[string]any) int {
	t.Helper()
	n := 0
	for k, want := range theirs {
		got, ok := ours[k]
		if !ok {
			continue
		}
		gm, gok := got.(map[string]any)
		wm, wok := want.(map[string]any)
		if gok && wok {
			n += compareProcoreJSON(t, prefix+k+".", gm, wm)
			continue
		}
		n++
		gs, gstr := got.(string)
		ws, wstr := want.(string)
		if gstr && wstr {
			gt, gerr := time.Parse(time.RFC3339Nano, gs)
			wt, werr := time.Parse(time.RFC3339Nano, ws)
			if gerr == nil && werr == nil {
				if !gt.Equal(wt) {
					t.Errorf("%s%s: %s, Procore %s", prefix, k, gs, ws)
				}
				continue
			}
		}
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(want)
		if string(gb) != string(wb) {
			t.Errorf("%s%s: %s, Procore %s", prefix, k, gb, wb)
		}
	}
	return n
}

// TestRESTProcoreGetPassThrough: the Procore route's GET forwards the
// caller's token like every route (through the service's interceptors and
// client), so without one nothing reaches Procore.
func TestRESTProcoreGetPassThrough(t *testing.T) {
	s := startStack(t, withoutRateLimits(), withPassThrough(), withRequired(service.RequiredFieldsMaskedOnly))
	field, err := s.emu.IssueToken("field-app")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		header     []string
		wantHTTP   int
		wantReason string
		wantCalls  int
	}{
		{"no token", nil, http.StatusUnauthorized, apierr.ReasonMissingCredentials, 0},
		{"unknown token", []string{"Authorization", "Bearer forged"}, http.StatusUnauthorized, apierr.ReasonUpstreamUnauthenticated, 1},
		{"token", []string{"Authorization", "Bearer " + field}, http.StatusOK, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.emu.ResetRequests()
			code, _, body := s.do(t, http.MethodGet, "/rest/v1.3/companies/8089/users/1001", "", "", tt.header...)
			if code != tt.wantHTTP {
				t.Fatalf("HTTP %d, want %d: %v", code, tt.wantHTTP, body)
			}
			if tt.wantReason != "" {
				if d := statusDetails(t, body); d["ErrorInfo"]["reason"] != tt.wantReason {
					t.Errorf("ErrorInfo %v, want %s", d["ErrorInfo"], tt.wantReason)
				}
			} else if body["id"] != json.Number("1001") {
				t.Errorf("id %#v", body["id"])
			}
			if n := len(s.emu.Requests()); n != tt.wantCalls {
				t.Errorf("%d upstream requests, want %d", n, tt.wantCalls)
			}
		})
	}
}

// blockingUpstream holds every GET until release is closed or the call is
// cancelled, and says on entered when one is waiting.
type blockingUpstream struct {
	*servicetest.Upstream
	entered chan struct{}
	release chan struct{}
}

func (b *blockingUpstream) GetCompanyUser(ctx context.Context, company, id int64) (*upstream.User, error) {
	b.entered <- struct{}{}
	select {
	case <-b.release:
		return b.Upstream.GetCompanyUser(ctx, company, id)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// TestShutdownReportsDrained: Shutdown says whether the calls in flight
// finished by themselves (the "drained" of directoryd's last log line).
func TestShutdownReportsDrained(t *testing.T) {
	tests := []struct {
		name     string
		inFlight bool
		release  bool // let the call finish: otherwise it outlives ctx
		want     bool
	}{
		{name: "idle", want: true},
		{name: "call finishes", inFlight: true, release: true, want: true},
		{name: "call outlives the deadline", inFlight: true, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := &blockingUpstream{Upstream: &servicetest.Upstream{Current: servicetest.SeedUser()}, entered: make(chan struct{}, 1), release: make(chan struct{})}
			s := startStack(t, withUpstream(up))
			srv, client := s.srv, s.client
			callErr := make(chan error, 1)
			if tt.inFlight {
				go func() {
					_, err := client.GetCompanyUser(context.Background(), &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: 1001})
					callErr <- err
				}()
				<-up.entered
			}
			ctx, cancel := context.WithCancel(context.Background())
			switch {
			case tt.release:
				close(up.release)
			case tt.inFlight:
				cancel() // no time left: the call in flight is cancelled
			}
			got := srv.Shutdown(ctx)
			cancel()
			if got != tt.want {
				t.Errorf("Shutdown drained = %v, want %v", got, tt.want)
			}
			if tt.inFlight {
				err := <-callErr
				if tt.release && err != nil {
					t.Errorf("the drained call failed: %v", err)
				}
				if !tt.release && err == nil {
					t.Errorf("the call outliving the deadline succeeded")
				}
			}
		})
	}
}
