package procoretest

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestErrorTable walks the contract's "Other errors" table and the order of
// checks: each row's request also breaks every later check, proving that
// the earlier check wins.
func TestErrorTable(t *testing.T) {
	e := newEmu(t)
	admin := mustToken(t, e, adminClient)
	field := mustToken(t, e, fieldClient)
	expired := mustToken(t, e, adminClient)
	e.ExpireTokens()
	admin = mustToken(t, e, adminClient)
	field = mustToken(t, e, fieldClient)
	valid := patchBody(withRequired(nil))

	tests := []struct {
		name        string
		c           call
		wantStatus  int
		wantBody    string // exact body when set
		wantType    string
		wantContain string
		routing     bool // a routing error, answered before authentication
	}{
		{name: "401 missing token", c: call{method: "PATCH", path: userPath(999, 1), noCompanyHdr: true, body: []byte("{")}, wantStatus: 401, wantContain: `"error":"invalid_token"`},
		{name: "401 unknown token", c: call{method: "GET", path: userPath(summit, 1001), token: "bogus"}, wantStatus: 401, wantContain: `"error_description":"The access token is invalid"`},
		{name: "401 expired token", c: call{method: "GET", path: userPath(summit, 1001), token: expired}, wantStatus: 401, wantContain: `"error_description":"The access token expired"`},
		{name: "401 basic auth is not bearer", c: call{method: "GET", path: userPath(summit, 1001), header: map[string][]string{"Authorization": {"Basic eDp5"}}}, wantStatus: 401, wantContain: "invalid_token"},
		{name: "400 missing company header", c: call{method: "PATCH", path: userPath(999, 1), token: admin, noCompanyHdr: true, body: []byte("{")}, wantStatus: 400, wantBody: "Missing Procore-Company-Id header!", wantType: "text/plain"},
		{name: "400 missing company header on show", c: call{method: "GET", path: userPath(summit, 1001), token: admin, noCompanyHdr: true}, wantStatus: 400, wantBody: "Missing Procore-Company-Id header!"},
		{name: "403 header disagrees with path", c: call{method: "PATCH", path: userPath(summit, 1001), token: admin, companyHdr: "5120", body: valid}, wantStatus: 403, wantContain: `{"errors":"`},
		{name: "403 header not a number", c: call{method: "GET", path: userPath(summit, 1001), token: admin, companyHdr: "abc"}, wantStatus: 403},
		{name: "404 no such company", c: call{method: "PATCH", path: userPath(999, 1), token: admin, body: []byte("{")}, wantStatus: 404, wantBody: `{"errors":"Not Found"}`},
		{name: "404 no such company on index", c: call{method: "GET", path: "/rest/v1.3/companies/999/users", token: admin}, wantStatus: 404, wantBody: `{"errors":"Not Found"}`},
		{name: "403 app not connected", c: call{method: "PATCH", path: userPath(harbor, 9999), token: field, body: []byte("{")}, wantStatus: 403, wantBody: "App is not connected to this company", wantType: "text/plain"},
		{name: "403 app not connected on index", c: call{method: "GET", path: "/rest/v1.3/companies/5120/users", token: field}, wantStatus: 403, wantBody: "App is not connected to this company"},
		{name: "404 no such user", c: call{method: "PATCH", path: userPath(summit, 9999), token: admin, body: []byte("{")}, wantStatus: 404, wantBody: `{"errors":"Not Found"}`},
		{name: "404 user of another company", c: call{method: "GET", path: userPath(summit, 2001), token: admin}, wantStatus: 404, wantBody: `{"errors":"Not Found"}`},
		{name: "400 malformed JSON", c: call{method: "PATCH", path: userPath(summit, 1001), token: field, body: []byte(`{"user": {`)}, wantStatus: 400, wantContain: `{"errors":"There was a problem in the JSON`},
		{name: "400 missing user", c: call{method: "PATCH", path: userPath(summit, 1001), token: field, body: []byte(`{"last_name":"x"}`)}, wantStatus: 400, wantBody: `{"errors":{"user":["is missing"]}}`},
		{name: "400 user not an object", c: call{method: "PATCH", path: userPath(summit, 1001), token: field, body: []byte(`{"user":"x"}`)}, wantStatus: 400, wantBody: `{"errors":{"user":["is missing"]}}`},
		{name: "400 empty body", c: call{method: "PATCH", path: userPath(summit, 1001), token: field, contentType: "application/json"}, wantStatus: 400, wantBody: `{"errors":{"user":["is missing"]}}`},
		{name: "400 unsupported content type", c: call{method: "PATCH", path: userPath(summit, 1001), token: field, contentType: "text/plain", body: []byte("user=1")}, wantStatus: 400, wantBody: `{"errors":{"user":["is missing"]}}`},
		{name: "400 malformed multipart", c: call{method: "PATCH", path: userPath(summit, 1001), token: field, contentType: "multipart/form-data; boundary=zz", body: []byte("--zz\r\nbroken")}, wantStatus: 400, wantContain: `"errors"`},
		{name: "400 missing last_name", c: call{method: "PATCH", path: userPath(summit, 1001), token: field, body: patchBody(map[string]any{"email_address": "maria.okafor@summitridge.example", "email_signature": 5})}, wantStatus: 400, wantBody: `{"errors":{"last_name":["can't be blank"]}}`},
		{name: "400 missing both required", c: call{method: "PATCH", path: userPath(summit, 1001), token: field, body: patchBody(map[string]any{"is_active": false})}, wantStatus: 400, wantBody: `{"errors":{"email_address":["can't be blank"],"last_name":["can't be blank"]}}`},
		{name: "403 admin-only field", c: call{method: "PATCH", path: userPath(summit, 1001), token: field, body: patchBody(withRequired(map[string]any{"add_to_new_projects": true, "job_title": 5}))}, wantStatus: 403, wantBody: `{"errors":"You do not have permission to change add_to_new_projects"}`},
		{name: "422 validation", c: call{method: "PATCH", path: userPath(summit, 1001), token: field, body: patchBody(withRequired(map[string]any{"job_title": 5}))}, wantStatus: 422, wantBody: `{"errors":{"job_title":["is invalid"]}}`},
		{name: "404 unknown route before auth", c: call{method: "GET", path: "/rest/v1.0/whatever"}, wantStatus: 404, routing: true},
		{name: "404 DELETE user is no route", c: call{method: "DELETE", path: userPath(summit, 1001), token: admin}, wantStatus: 404, routing: true},
		{name: "404 non-numeric user id", c: call{method: "GET", path: "/rest/v1.3/companies/8089/users/abc", token: admin}, wantStatus: 404, routing: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := do(t, e, tc.c)
			if w.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.wantStatus, w.Body)
			}
			if tc.wantBody != "" && w.Body.String() != tc.wantBody {
				t.Errorf("body %q, want %q", w.Body, tc.wantBody)
			}
			if tc.wantContain != "" && !strings.Contains(w.Body.String(), tc.wantContain) {
				t.Errorf("body %q does not contain %q", w.Body, tc.wantContain)
			}
			if tc.wantType != "" && !strings.HasPrefix(w.Header().Get("Content-Type"), tc.wantType) {
				t.Errorf("content type %q, want %q", w.Header().Get("Content-Type"), tc.wantType)
			}
			if w.Header().Get("X-Request-Id") == "" {
				t.Error("missing X-Request-Id")
			}
			authed := tc.wantStatus != 401 && tc.c.token != "" && !tc.routing
			if got := w.Header().Get("X-Rate-Limit-Limit") != ""; got != authed {
				t.Errorf("rate limit headers present=%v, want %v", got, authed)
			}
		})
	}
	if u, _ := e.User(summit, 1001); !strings.Contains(string(u), `"updated_at":"2026-11-20T16:04:11Z"`) {
		t.Errorf("a failed request changed the user: %s", u)
	}
}

// TestShow checks the extended shape, which renders every stored
// attribute; TestResponseShape covers the published one.
func TestShow(t *testing.T) {
	e := newEmu(t, WithResponseShape(ResponseShapeExtended))
	tok := mustToken(t, e, adminClient)
	w := do(t, e, call{method: "GET", path: userPath(summit, 1002), token: tok})
	if w.Code != 200 {
		t.Fatalf("show: %d %s", w.Code, w.Body)
	}
	u := decode(t, w.Body.Bytes())
	want := map[string]any{
		"id": 1002.0, "name": "Jun Tanaka", "country_code": "CA", "state_code": "BC",
		"default_permission_template_id": 42.0, "company_permission_template_id": 43.0,
		"work_classification_id": 7.0, "vendor_id": nil, "vendor": nil, "avatar": nil,
		"add_to_new_projects": false, "business_phone_extension": nil, "employee_id": "SRC-0107",
		"role": "Superintendent", "verified_employee": true, "business_id": "SRC-SU-0017", "is_insurance_manager": true,
		"last_login_at": nil, "created_at": "2025-06-10T11:58:40Z",
	}
	for k, v := range want {
		got, ok := u[k]
		if !ok || !equalJSON(got, v) {
			t.Errorf("%s = %#v (present %v), want %#v", k, got, ok, v)
		}
	}
	if pt, _ := u["company_permission_template"].(map[string]any); pt["name"] != "Read Only" {
		t.Errorf("company_permission_template = %v", u["company_permission_template"])
	}
	if _, ok := u["erp_integrated_accountant"]; ok {
		t.Error("show must not carry erp_integrated_accountant")
	}
	raw, ok := e.User(summit, 1002)
	if !ok || string(raw) != w.Body.String() {
		t.Errorf("User() differs from show:\n%s\n%s", raw, w.Body)
	}
	if _, ok := e.User(summit, 1); ok {
		t.Error("User(unknown) found")
	}
	// The vendor object is rendered from the company's vendors.
	w = do(t, e, call{method: "GET", path: userPath(summit, 1003), token: tok})
	if v := decode(t, w.Body.Bytes())["vendor"].(map[string]any); v["id"] != 301.0 || v["name"] != "Granite Peak Concrete" {
		t.Errorf("vendor = %v", v)
	}
	if decode(t, w.Body.Bytes())["vendor_id"] != 301.0 {
		t.Error("vendor_id not derived from the seed's vendor object")
	}
}

func equalJSON(a, b any) bool {
	ab, _ := json.Marshal(a)
	bb, _ := json.Marshal(b)
	return string(ab) == string(bb)
}

func TestIndex(t *testing.T) {
	e := newEmu(t)
	tok := mustToken(t, e, adminClient)
	tests := []struct {
		query       string
		wantIDs     []float64
		wantPerPage string
	}{
		{"", []float64{1001, 1002, 1003, 1004}, "100"},
		{"?per_page=2", []float64{1001, 1002}, "2"},
		{"?per_page=2&page=2", []float64{1003, 1004}, "2"},
		{"?per_page=3&page=2", []float64{1004}, "3"},
		{"?per_page=2&page=3", []float64{}, "2"},
		{"?page=0&per_page=-1", []float64{1001, 1002, 1003, 1004}, "100"},
		{"?per_page=5000", []float64{1001, 1002, 1003, 1004}, "1000"},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			w := do(t, e, call{method: "GET", path: "/rest/v1.3/companies/8089/users" + tc.query, token: tok})
			if w.Code != 200 {
				t.Fatalf("index: %d %s", w.Code, w.Body)
			}
			var list []map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil {
				t.Fatal(err)
			}
			ids := []float64{}
			for _, u := range list {
				ids = append(ids, u["id"].(float64))
				for _, k := range []string{"role", "verified_employee", "erp_integrated_accountant", "permission_template"} {
					if _, ok := u[k]; !ok {
						t.Errorf("list item lacks %s", k)
					}
				}
			}
			if !equalJSON(ids, tc.wantIDs) {
				t.Errorf("ids %v, want %v", ids, tc.wantIDs)
			}
			if w.Header().Get("Total") != "4" || w.Header().Get("Per-Page") != tc.wantPerPage {
				t.Errorf("Total=%q Per-Page=%q", w.Header().Get("Total"), w.Header().Get("Per-Page"))
			}
		})
	}
}
