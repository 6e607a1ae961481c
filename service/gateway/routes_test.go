package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/service/apierr"
	"github.com/procore-directory/procore-directory/service/gateway"
	"github.com/procore-directory/procore-directory/service/server"
	"github.com/procore-directory/procore-directory/service/servicetest"
)

// restStatus is the google.rpc.Status JSON of an error answer.
type restStatus struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Details []struct {
		Type            string `json:"@type"`
		Reason          string `json:"reason"`
		FieldViolations []struct {
			Field       string `json:"field"`
			Description string `json:"description"`
		} `json:"field_violations"`
	} `json:"details"`
}

func (s restStatus) reason() string {
	for _, d := range s.Details {
		if strings.HasSuffix(d.Type, "ErrorInfo") {
			return d.Reason
		}
	}
	return ""
}

// violations returns field -> description of the BadRequest detail.
func (s restStatus) violations() map[string]string {
	out := map[string]string{}
	for _, d := range s.Details {
		for _, v := range d.FieldViolations {
			out[v.Field] = v.Description
		}
	}
	return out
}

// newGateway is the whole stack (server.New) over a fake Procore.
func newGateway(t *testing.T) (http.Handler, *servicetest.Upstream) {
	t.Helper()
	fake := &servicetest.Upstream{Current: servicetest.SeedUser()}
	cfg := server.DefaultConfig()
	cfg.Upstream = fake
	cfg.RequiredFields = service.RequiredFieldsMaskedOnly
	srv, err := server.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	return srv.Handler(), fake
}

func serve(t *testing.T, h http.Handler, method, target, body string) (*httptest.ResponseRecorder, restStatus) {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec, decodeError(t, rec, method, target)
}

// procoreTarget matches the Procore-compatible route's URLs.
var procoreTarget = regexp.MustCompile(`^/rest/v1\.3/companies/[^/?]+/users/[^/?]+(\?|$)`)

// decodeError reads an error answer: google.rpc.Status JSON on /v1 and
// the other routes, and on the Procore-compatible route Procore's shapes,
// read into the same restStatus (the reason from gateway.ErrorReasonHeader, a
// 422's fields as user.<field> violations, a 400's message "invalid
// <field>: <description>" as that one violation and the rest counted).
// Procore's bodies carry no google.rpc.Code: Code stays 0.
func decodeError(t *testing.T, rec *httptest.ResponseRecorder, method, target string) restStatus {
	t.Helper()
	var st restStatus
	if rec.Code < 400 {
		return st
	}
	if !procoreTarget.MatchString(target) {
		if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil {
			t.Fatalf("%s %s: HTTP %d body %q is no google.rpc.Status: %v", method, target, rec.Code, rec.Body, err)
		}
		return st
	}
	var body struct {
		Errors           json.RawMessage `json:"errors"`
		Error            string          `json:"error"`
		ErrorDescription string          `json:"error_description"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || (body.Errors == nil && body.Error == "") {
		t.Fatalf("%s %s: HTTP %d body %q is none of Procore's error shapes: %v", method, target, rec.Code, rec.Body, err)
	}
	type detail = struct {
		Type            string `json:"@type"`
		Reason          string `json:"reason"`
		FieldViolations []struct {
			Field       string `json:"field"`
			Description string `json:"description"`
		} `json:"field_violations"`
	}
	info := detail{Type: "type.googleapis.com/google.rpc.ErrorInfo", Reason: rec.Header().Get(gateway.ErrorReasonHeader)}
	br := detail{Type: "type.googleapis.com/google.rpc.BadRequest"}
	add := func(field, desc string) {
		br.FieldViolations = append(br.FieldViolations, struct {
			Field       string `json:"field"`
			Description string `json:"description"`
		}{field, desc})
	}
	var fields map[string][]string
	var msg string
	switch {
	case json.Unmarshal(body.Errors, &fields) == nil && fields != nil:
		for f, msgs := range fields {
			name := "user." + f
			if f == "avatar" {
				name = f
			}
			add(name, strings.Join(msgs, "; "))
		}
	case json.Unmarshal(body.Errors, &msg) == nil:
		st.Message = msg
		if rest, ok := strings.CutPrefix(msg, "invalid "); ok {
			field, desc, _ := strings.Cut(rest, ": ")
			var more int
			if i := strings.LastIndex(desc, " (and "); i >= 0 {
				if _, err := fmt.Sscanf(desc[i:], " (and %d more violations)", &more); err == nil {
					desc = desc[:i]
				}
			}
			add(field, desc)
			for i := range more {
				add(fmt.Sprintf("(more %d)", i+1), "")
			}
		}
	default:
		st.Message = body.ErrorDescription
	}
	st.Details = append(st.Details, info)
	if len(br.FieldViolations) > 0 {
		st.Details = append(st.Details, br)
	}
	return st
}

// TestRoutingErrors: a wrong method gets 405 with Allow, an unknown route
// 404, each with its ErrorInfo reason (not INTERNAL), and Procore is not
// called.
func TestRoutingErrors(t *testing.T) {
	h, fake := newGateway(t)
	tests := []struct {
		name, method, path string
		wantHTTP           int
		wantCode           int // google.rpc.Code
		wantReason         string
		wantAllow          string
	}{
		{"DELETE on /v1", http.MethodDelete, "/v1/companies/8089/users/1001", 405, 12, apierr.ReasonMethodNotAllowed, "GET, PATCH"},
		{"POST on /v1", http.MethodPost, "/v1/companies/8089/users/1001", 405, 12, apierr.ReasonMethodNotAllowed, "GET, PATCH"},
		// Procore's error body has no google.rpc.Code (decodeError): code 0.
		{"PUT on the Procore route", http.MethodPut, "/rest/v1.3/companies/8089/users/1001", 405, 0, apierr.ReasonMethodNotAllowed, "GET, PATCH"},
		{"DELETE on the Procore route", http.MethodDelete, "/rest/v1.3/companies/8089/users/1001", 405, 0, apierr.ReasonMethodNotAllowed, "GET, PATCH"},
		{"POST on /healthz", http.MethodPost, "/healthz", 405, 12, apierr.ReasonMethodNotAllowed, "GET, HEAD"},
		{"unknown prefix", http.MethodGet, "/v2/companies/8089/users/1001", 404, 5, apierr.ReasonNotFound, ""},
		{"collection", http.MethodGet, "/v1/companies/8089/users", 404, 5, apierr.ReasonNotFound, ""},
		{"too deep", http.MethodPatch, "/rest/v1.3/companies/8089/users/1001/avatar", 404, 5, apierr.ReasonNotFound, ""},
		{"root", http.MethodGet, "/", 404, 5, apierr.ReasonNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake.Reset()
			rec, st := serve(t, h, tt.method, tt.path, "")
			if rec.Code != tt.wantHTTP || st.Code != tt.wantCode || st.reason() != tt.wantReason {
				t.Fatalf("HTTP %d code %d reason %q, want %d %d %q: %s", rec.Code, st.Code, st.reason(), tt.wantHTTP, tt.wantCode, tt.wantReason, rec.Body)
			}
			if got := rec.Header().Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow %q, want %q", got, tt.wantAllow)
			}
			if gets, updates := fake.Calls(); gets+updates != 0 {
				t.Errorf("%d GETs, %d PATCHes reached Procore", gets, updates)
			}
		})
	}
}

// TestBadPathParameter: a path parameter that is no integer is named, with
// a plain message, on every route, and nothing reaches Procore.
func TestBadPathParameter(t *testing.T) {
	h, fake := newGateway(t)
	tests := []struct {
		name, method, path, body string
		want                     map[string]string
	}{
		{"v1 GET id", http.MethodGet, "/v1/companies/8089/users/abc", "", map[string]string{"id": "id must be a positive integer"}},
		{"v1 GET company", http.MethodGet, "/v1/companies/acme/users/1001", "", map[string]string{"company_id": "company_id must be a positive integer"}},
		{"v1 PATCH both", http.MethodPatch, "/v1/companies/x/users/1.5", `{"city":"x"}`, map[string]string{
			"company_id": "company_id must be a positive integer", "id": "id must be a positive integer"}},
		{"v1 GET overflow", http.MethodGet, "/v1/companies/8089/users/99999999999999999999", "", map[string]string{"id": "id must be a positive integer"}},
		{"procore GET id", http.MethodGet, "/rest/v1.3/companies/8089/users/abc", "", map[string]string{"id": "id must be a positive integer"}},
		{"procore PATCH id", http.MethodPatch, "/rest/v1.3/companies/8089/users/me", `{"user":{"city":"x"}}`, map[string]string{"id": "id must be a positive integer"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake.Reset()
			rec, st := serve(t, h, tt.method, tt.path, tt.body)
			if rec.Code != http.StatusBadRequest || st.reason() != apierr.ReasonInvalidRequest {
				t.Fatalf("HTTP %d reason %q: %s", rec.Code, st.reason(), rec.Body)
			}
			got := st.violations()
			if len(got) != len(tt.want) {
				t.Errorf("violations %v, want %v", got, tt.want)
			}
			for field, desc := range tt.want {
				if got[field] != desc {
					t.Errorf("violation on %q: %q, want %q", field, got[field], desc)
				}
			}
			if strings.Contains(rec.Body.String(), "strconv") || strings.Contains(rec.Body.String(), "type mismatch") {
				t.Errorf("raw parser text in %s", rec.Body)
			}
			if gets, updates := fake.Calls(); gets+updates != 0 {
				t.Errorf("%d GETs, %d PATCHes reached Procore", gets, updates)
			}
		})
	}
}

// TestAvatarInQueryRefused: an avatar in the URL is refused, naming the
// parameter, with no upstream call; the same request without it goes
// through.
func TestAvatarInQueryRefused(t *testing.T) {
	h, fake := newGateway(t)
	tests := []struct {
		name, method, target, body string
		wantField                  string // "" : accepted
	}{
		{"content", http.MethodPatch, "/v1/companies/8089/users/1001?avatar.content=iVBORw0KGgo=", `{"city":"x"}`, "avatar.content"},
		{"file name", http.MethodPatch, "/v1/companies/8089/users/1001?avatar.file_name=me.png", `{"city":"x"}`, "avatar.file_name"},
		{"content type with a mask", http.MethodPatch, "/v1/companies/8089/users/1001?update_mask=city&avatar.content_type=image/png", `{"city":"x"}`, "avatar.content_type"},
		{"JSON name", http.MethodPatch, "/v1/companies/8089/users/1001?avatar.contentType=image/png", `{"city":"x"}`, "avatar.contentType"},
		{"Procore route", http.MethodPatch, "/rest/v1.3/companies/8089/users/1001?avatar.content=iVBORw0KGgo=", `{"user":{"city":"x"}}`, "avatar.content"},
		{"no avatar", http.MethodPatch, "/v1/companies/8089/users/1001?update_mask=city", `{"city":"x"}`, ""},
		{"avatar-like name is an unknown parameter", http.MethodPatch, "/rest/v1.3/companies/8089/users/1001?avatars=1", `{"user":{"city":"x"}}`, "avatars"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake.Reset()
			rec, st := serve(t, h, tt.method, tt.target, tt.body)
			_, updates := fake.Calls()
			if tt.wantField == "" {
				if rec.Code != http.StatusOK || updates != 1 {
					t.Fatalf("HTTP %d, %d PATCHes: %s", rec.Code, updates, rec.Body)
				}
				return
			}
			if rec.Code != http.StatusBadRequest || st.reason() != apierr.ReasonInvalidRequest {
				t.Fatalf("HTTP %d reason %q: %s", rec.Code, st.reason(), rec.Body)
			}
			if _, ok := st.violations()[tt.wantField]; !ok || len(st.violations()) != 1 {
				t.Errorf("violations %v, want one on %s", st.violations(), tt.wantField)
			}
			if updates != 0 {
				t.Errorf("%d PATCHes reached Procore", updates)
			}
		})
	}
}

// TestProcoreGet: the Procore route's GET reads the user through the
// service and answers in Procore's JSON (numbers, nulls), the same
// rendering as its PATCH.
func TestProcoreGet(t *testing.T) {
	h, fake := newGateway(t)
	decode := func(rec *httptest.ResponseRecorder) map[string]any {
		t.Helper()
		var m map[string]any
		dec := json.NewDecoder(rec.Body)
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	rec, _ := serve(t, h, http.MethodGet, "/rest/v1.3/companies/8089/users/1001", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("HTTP %d: %s", rec.Code, rec.Body)
	}
	got := decode(rec)
	if gets, updates := fake.Calls(); gets != 1 || updates != 0 {
		t.Errorf("%d GETs, %d PATCHes upstream, want one GET", gets, updates)
	}
	if got["id"] != json.Number("1001") {
		t.Errorf("id %#v, want the JSON number 1001", got["id"])
	}
	v1, _ := serve(t, h, http.MethodGet, "/v1/companies/8089/users/1001", "")
	if v1.Code != http.StatusOK {
		t.Fatalf("v1 GET: HTTP %d", v1.Code)
	}
	if v := decode(v1); v["id"] != "1001" {
		t.Errorf("v1 keeps protojson (int64 as a string): id %#v", v["id"])
	}
	patch, _ := serve(t, h, http.MethodPatch, "/rest/v1.3/companies/8089/users/1001?update_mask=city", `{"user":{"city":"Portland"}}`)
	if patch.Code != http.StatusOK {
		t.Fatalf("PATCH: HTTP %d %s", patch.Code, patch.Body)
	}
	// Both answer the same record (the fake's Current): the same JSON.
	fromPatch := decode(patch)
	if len(fromPatch) != len(got) {
		t.Errorf("GET has %d keys, PATCH %d", len(got), len(fromPatch))
	}
	for k, v := range fromPatch {
		gb, _ := json.Marshal(got[k])
		pb, _ := json.Marshal(v)
		if string(gb) != string(pb) {
			t.Errorf("%s: GET %s, PATCH %s", k, gb, pb)
		}
	}
}
