package procoretest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestAdminFields(t *testing.T) {
	unchanged := patchBody(withRequired(map[string]any{"job_title": "Lead"}))
	changedEmail := patchBody(withRequired(map[string]any{"email_address": "maria.new@summitridge.example"}))
	onlyFlag := patchBody(map[string]any{"add_to_new_projects": false, "job_title": "Lead"}) // stored value, partial body
	noAdmin := patchBody(map[string]any{"job_title": "Lead"})
	tests := []struct {
		name       string
		mode       AdminFields
		partial    bool
		client     string
		body       []byte
		wantStatus int
		wantBody   string
	}{
		{name: "changed: unchanged email accepted", mode: AdminFieldsChanged, client: fieldClient, body: unchanged, wantStatus: 200},
		{name: "changed: new email refused", mode: AdminFieldsChanged, client: fieldClient, body: changedEmail, wantStatus: 403, wantBody: `{"errors":"You do not have permission to change email_address"}`},
		{name: "changed: unchanged flag accepted", mode: AdminFieldsChanged, partial: true, client: fieldClient, body: onlyFlag, wantStatus: 200},
		{name: "included: unchanged email refused", mode: AdminFieldsIncluded, client: fieldClient, body: unchanged, wantStatus: 403, wantBody: `{"errors":"You do not have permission to change email_address"}`},
		{name: "included: unchanged flag refused", mode: AdminFieldsIncluded, partial: true, client: fieldClient, body: onlyFlag, wantStatus: 403, wantBody: `{"errors":"You do not have permission to change add_to_new_projects"}`},
		{name: "included: no admin field accepted", mode: AdminFieldsIncluded, partial: true, client: fieldClient, body: noAdmin, wantStatus: 200},
		{name: "included: required check still first", mode: AdminFieldsIncluded, client: fieldClient, body: noAdmin, wantStatus: 400},
		{name: "included: admin client accepted", mode: AdminFieldsIncluded, client: adminClient, body: changedEmail, wantStatus: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEmu(t, WithAdminFields(tc.mode), WithPartialBodies(tc.partial))
			before, _ := e.User(summit, 1001)
			w := do(t, e, call{method: "PATCH", path: userPath(summit, 1001), token: mustToken(t, e, tc.client), body: tc.body})
			if w.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.wantStatus, w.Body)
			}
			if tc.wantBody != "" && w.Body.String() != tc.wantBody {
				t.Errorf("body %s, want %s", w.Body, tc.wantBody)
			}
			after, _ := e.User(summit, 1001)
			if changed := string(before) != string(after); changed != (tc.wantStatus == 200) {
				t.Errorf("record changed=%v after a %d", changed, w.Code)
			}
		})
	}
}

func TestResponseShape(t *testing.T) {
	// Fields only one shape has, in the update and show 200s.
	publishedOnly := []string{"contact_id"}
	extendedOnly := []string{"vendor_id", "permission_template", "company_permission_template", "welcome_email_sent_at"}
	common := []string{"id", "business_id", "is_insurance_manager", "vendor", "default_permission_template_id", "company_permission_template_id", "add_to_new_projects", "email_address"}
	showOnly := []string{"role", "verified_employee"}
	tests := []struct {
		shape  ResponseShape
		method string
		path   string
		list   bool
	}{
		{ResponseShapePublished, "PATCH", userPath(summit, 1003), false},
		{ResponseShapePublished, "GET", userPath(summit, 1003), false},
		{ResponseShapePublished, "GET", "/rest/v1.3/companies/8089/users", true},
		{ResponseShapeExtended, "PATCH", userPath(summit, 1003), false},
		{ResponseShapeExtended, "GET", userPath(summit, 1003), false},
		{ResponseShapeExtended, "GET", "/rest/v1.3/companies/8089/users", true},
	}
	for _, tc := range tests {
		t.Run(string(tc.shape)+" "+tc.method+" "+tc.path, func(t *testing.T) {
			e := newEmu(t, WithResponseShape(tc.shape))
			c := call{method: tc.method, path: tc.path, token: mustToken(t, e, adminClient)}
			if tc.method == "PATCH" {
				c.body = []byte(`{"user":{"last_name":"Brennan","email_address":"sam.brennan@granitepeak.example","city":"Bend"}}`)
			}
			w := do(t, e, c)
			if w.Code != 200 {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
			var u map[string]any
			if tc.list {
				items := decodeList(t, w.Body.Bytes())
				u = items[2] // user 1003
			} else {
				u = decode(t, w.Body.Bytes())
			}
			if u["id"] != 1003.0 {
				t.Fatalf("rendered user %v", u["id"])
			}
			published := tc.shape == ResponseShapePublished && !tc.list
			want := map[string]bool{}
			for _, k := range common {
				want[k] = true
			}
			for _, k := range publishedOnly {
				want[k] = published
			}
			for _, k := range extendedOnly {
				want[k] = !published
			}
			for _, k := range showOnly {
				want[k] = tc.method == "GET"
			}
			for k, present := range want {
				if _, ok := u[k]; ok != present {
					t.Errorf("%s present=%v, want %v", k, ok, present)
				}
			}
			if published {
				if u["contact_id"] != 7700103.0 || u["business_id"] != nil || u["is_insurance_manager"] != false {
					t.Errorf("contact_id %v business_id %v is_insurance_manager %v", u["contact_id"], u["business_id"], u["is_insurance_manager"])
				}
				if v, _ := u["vendor"].(map[string]any); v["id"] != 301.0 {
					t.Errorf("vendor %v", u["vendor"])
				}
			}
			if tc.method == "GET" && !tc.list && (u["role"] != "Vendor Estimator" || u["verified_employee"] != false) {
				t.Errorf("role %v verified_employee %v", u["role"], u["verified_employee"])
			}
			// User() shows every stored attribute whatever the shape.
			raw, _ := e.User(summit, 1003)
			if !strings.Contains(string(raw), `"vendor_id":301`) || !strings.Contains(string(raw), `"welcome_email_sent_at":`) {
				t.Errorf("User() lacks extended fields: %s", raw)
			}
		})
	}
}

// TestContactIDDefault: a seed without contact_id still renders the
// published schema's non-null contact_id (the user id).
func TestContactIDDefault(t *testing.T) {
	seed := `{"oauth_clients":[{"client_id":"c","client_secret":"s","directory_admin":true,"company_ids":[1]}],
	"companies":[{"id":1,"name":"One","users":[{"id":77,"last_name":"Solo","email_address":"solo@one.example"}]}]}`
	e := newEmu(t, WithSeed([]byte(seed)))
	w := do(t, e, call{method: "GET", path: userPath(1, 77), token: mustToken(t, e, "c")})
	if u := decode(t, w.Body.Bytes()); w.Code != 200 || u["contact_id"] != 77.0 {
		t.Fatalf("%d contact_id %v", w.Code, u["contact_id"])
	}
}

func TestErrorBody(t *testing.T) {
	type row struct {
		name       string
		c          func(admin, field string) call
		wantStatus int
		rails      string // exact body in ErrorBodyRails ("" = not checked)
		flat       string // exact body in ErrorBodyFlat
	}
	valid := patchBody(withRequired(nil))
	tests := []row{
		{name: "400 missing company header", c: func(a, _ string) call {
			return call{method: "GET", path: userPath(summit, 1001), token: a, noCompanyHdr: true}
		}, wantStatus: 400, rails: "Missing Procore-Company-Id header!",
			flat: `{"code":400,"message":"Missing Procore-Company-Id header!","fields":"","reason":"missing_company_header","error":"Bad Request"}`},
		{name: "400 missing user", c: func(_, f string) call {
			return call{method: "PATCH", path: userPath(summit, 1001), token: f, body: []byte(`{"last_name":"x"}`)}
		}, wantStatus: 400, rails: `{"errors":{"user":["is missing"]}}`,
			flat: `{"code":400,"message":"user is missing","fields":"user","reason":"missing_parameter","error":"Bad Request"}`},
		{name: "400 missing both required", c: func(_, f string) call {
			return call{method: "PATCH", path: userPath(summit, 1001), token: f, body: patchBody(map[string]any{"is_active": false})}
		}, wantStatus: 400, rails: `{"errors":{"email_address":["can't be blank"],"last_name":["can't be blank"]}}`,
			flat: `{"code":400,"message":"last_name can't be blank, email_address can't be blank","fields":"last_name,email_address","reason":"missing_required_fields","error":"Bad Request"}`},
		{name: "400 malformed JSON", c: func(_, f string) call {
			return call{method: "PATCH", path: userPath(summit, 1001), token: f, body: []byte(`{"user": {`)}
		}, wantStatus: 400,
			flat: `{"code":400,"message":"There was a problem in the JSON you submitted: parse JSON body: unexpected end of JSON input","fields":"","reason":"invalid_json","error":"Bad Request"}`},
		{name: "401 unknown token", c: func(_, _ string) call {
			return call{method: "GET", path: userPath(summit, 1001), token: "bogus"}
		}, wantStatus: 401, rails: `{"error":"invalid_token","error_description":"The access token is invalid"}`,
			flat: `{"code":401,"message":"The access token is invalid","fields":"","reason":"invalid_token","error":"Unauthorized"}`},
		{name: "403 header disagrees", c: func(a, _ string) call {
			return call{method: "PATCH", path: userPath(summit, 1001), token: a, companyHdr: "5120", body: valid}
		}, wantStatus: 403, rails: `{"errors":"Procore-Company-Id header does not match the company in the path"}`,
			flat: `{"code":403,"message":"Procore-Company-Id header does not match the company in the path","fields":"","reason":"company_mismatch","error":"Forbidden"}`},
		{name: "403 app not connected", c: func(_, f string) call {
			return call{method: "GET", path: userPath(harbor, 2001), token: f}
		}, wantStatus: 403, rails: "App is not connected to this company",
			flat: `{"code":403,"message":"App is not connected to this company","fields":"","reason":"app_not_connected","error":"Forbidden"}`},
		{name: "403 admin-only field", c: func(_, f string) call {
			return call{method: "PATCH", path: userPath(summit, 1001), token: f, body: patchBody(withRequired(map[string]any{"add_to_new_projects": true}))}
		}, wantStatus: 403, rails: `{"errors":"You do not have permission to change add_to_new_projects"}`,
			flat: `{"code":403,"message":"You do not have permission to change add_to_new_projects","fields":"add_to_new_projects","reason":"admin_only_field","error":"Forbidden"}`},
		// Not 400/401/403: the same body in both modes.
		{name: "404 unchanged", c: func(a, _ string) call {
			return call{method: "GET", path: userPath(summit, 9999), token: a}
		}, wantStatus: 404, rails: `{"errors":"Not Found"}`, flat: `{"errors":"Not Found"}`},
		{name: "422 unchanged", c: func(_, f string) call {
			return call{method: "PATCH", path: userPath(summit, 1001), token: f, body: patchBody(withRequired(map[string]any{"job_title": 5}))}
		}, wantStatus: 422, rails: `{"errors":{"job_title":["is invalid"]}}`, flat: `{"errors":{"job_title":["is invalid"]}}`},
	}
	for _, mode := range []ErrorBody{ErrorBodyRails, ErrorBodyFlat} {
		for _, tc := range tests {
			t.Run(string(mode)+" "+tc.name, func(t *testing.T) {
				e := newEmu(t, WithErrorBody(mode))
				w := do(t, e, tc.c(mustToken(t, e, adminClient), mustToken(t, e, fieldClient)))
				if w.Code != tc.wantStatus {
					t.Fatalf("status %d, want %d: %s", w.Code, tc.wantStatus, w.Body)
				}
				want := tc.rails
				if mode == ErrorBodyFlat {
					want = tc.flat
					if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
						t.Errorf("content type %q", ct)
					}
				}
				if want != "" && w.Body.String() != want {
					t.Errorf("body %s\nwant %s", w.Body, want)
				}
				if w.Code == http.StatusUnauthorized && !strings.Contains(w.Header().Get("WWW-Authenticate"), "invalid_token") {
					t.Errorf("WWW-Authenticate %q", w.Header().Get("WWW-Authenticate"))
				}
				if w.Code == http.StatusForbidden && w.Header().Get("X-Rate-Limit-Limit") == "" {
					t.Error("rate-limit headers lost")
				}
			})
		}
	}
}

func TestNullClears(t *testing.T) {
	required := [][2]string{{"user[last_name]", "Okafor"}, {"user[email_address]", "maria.okafor@summitridge.example"}}
	form := func(extra ...[2]string) func(t *testing.T) ([]byte, string) {
		return func(t *testing.T) ([]byte, string) {
			return multipartBody(t, append(append([][2]string{}, required...), extra...))
		}
	}
	jsonBody := func(fields map[string]any) func(t *testing.T) ([]byte, string) {
		return func(*testing.T) ([]byte, string) { return patchBody(withRequired(fields)), "application/json" }
	}
	tests := []struct {
		name       string
		clears     bool
		body       func(t *testing.T) ([]byte, string)
		wantStatus int
		wantBody   string         // exact, when set
		want       map[string]any // fields of the 200 answer
	}{
		{name: "JSON null string clears", clears: true, body: jsonBody(map[string]any{"notes": nil}), wantStatus: 200, want: map[string]any{"notes": nil}},
		{name: "JSON null boolean clears", clears: true, body: jsonBody(map[string]any{"is_employee": nil}), wantStatus: 200, want: map[string]any{"is_employee": nil}},
		{name: "JSON null string refused", body: jsonBody(map[string]any{"notes": nil}), wantStatus: 422, wantBody: `{"errors":{"notes":["can't be null"]}}`},
		{name: "JSON nulls refused, all named", body: jsonBody(map[string]any{"is_employee": nil, "business_phone_extension": nil}), wantStatus: 422,
			wantBody: `{"errors":{"business_phone_extension":["can't be null"],"is_employee":["can't be null"]}}`},
		{name: "JSON null required field refused", body: jsonBody(map[string]any{"last_name": nil}), wantStatus: 422, wantBody: `{"errors":{"last_name":["can't be null"]}}`},
		{name: "JSON null avatar refused", body: jsonBody(map[string]any{"avatar": nil}), wantStatus: 422, wantBody: `{"errors":{"avatar":["can't be null"]}}`},
		{name: "JSON values still accepted", body: jsonBody(map[string]any{"notes": "n", "is_employee": false}), wantStatus: 200, want: map[string]any{"notes": "n", "is_employee": false}},
		{name: "form empty string kept as empty", body: form([2]string{"user[notes]", ""}), wantStatus: 200, want: map[string]any{"notes": ""}},
		{name: "form empty string clears", clears: true, body: form([2]string{"user[notes]", ""}), wantStatus: 200, want: map[string]any{"notes": nil}},
		{name: "form empty integer refused", body: form([2]string{"user[business_phone_extension]", ""}), wantStatus: 422, wantBody: `{"errors":{"business_phone_extension":["can't be null"]}}`},
		{name: "form empty avatar refused", body: form([2]string{"user[avatar]", ""}), wantStatus: 422, wantBody: `{"errors":{"avatar":["can't be null"]}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEmu(t, WithNullClears(tc.clears))
			before, _ := e.User(summit, 1001)
			body, ct := tc.body(t)
			w := do(t, e, call{method: "PATCH", path: userPath(summit, 1001), token: mustToken(t, e, adminClient), contentType: ct, body: body})
			if w.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.wantStatus, w.Body)
			}
			if tc.wantBody != "" && w.Body.String() != tc.wantBody {
				t.Errorf("body %s, want %s", w.Body, tc.wantBody)
			}
			if w.Code != 200 {
				if after, _ := e.User(summit, 1001); string(after) != string(before) {
					t.Error("a refused null changed the record")
				}
				return
			}
			u := decode(t, w.Body.Bytes())
			for k, v := range tc.want {
				if got, ok := u[k]; !ok || !equalJSON(got, v) {
					t.Errorf("%s = %#v, want %#v", k, got, v)
				}
			}
		})
	}
}

func TestModeOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opt  Option
	}{
		{"admin fields", WithAdminFields("sometimes")},
		{"response shape", WithResponseShape("")},
		{"error body", WithErrorBody("xml")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.opt); err == nil {
				t.Fatal("invalid mode accepted")
			}
		})
	}
	var a AdminFields
	var s ResponseShape
	var b ErrorBody
	for text, u := range map[string]interface{ UnmarshalText([]byte) error }{"included": &a, "extended": &s, "flat": &b} {
		if err := u.UnmarshalText([]byte(text)); err != nil {
			t.Errorf("%s: %v", text, err)
		}
	}
	if a != AdminFieldsIncluded || s != ResponseShapeExtended || b != ErrorBodyFlat {
		t.Errorf("parsed %q %q %q", a, s, b)
	}
}

func decodeList(t testing.TB, b []byte) []map[string]any {
	t.Helper()
	var items []map[string]any
	if err := json.Unmarshal(b, &items); err != nil {
		t.Fatalf("decode list %q: %v", b, err)
	}
	return items
}
