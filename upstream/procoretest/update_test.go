package procoretest

import (
	"net/http"
	"strings"
	"testing"
)

func TestUpdateValidations(t *testing.T) {
	tests := []struct {
		name       string
		user       int64
		fields     map[string]any
		query      string
		wantStatus int
		wantErrors string // exact JSON of errors on 422
	}{
		{name: "valid change", fields: map[string]any{"job_title": "Director"}, wantStatus: 200},
		{name: "bad email syntax", fields: map[string]any{"email_address": "not-an-email"}, wantStatus: 422, wantErrors: `{"email_address":["is invalid"]}`},
		{name: "email with display name", fields: map[string]any{"email_address": "Maria <m@x.example>"}, wantStatus: 422, wantErrors: `{"email_address":["is invalid"]}`},
		{name: "email taken in company", fields: map[string]any{"email_address": "jun.tanaka@summitridge.example"}, wantStatus: 422, wantErrors: `{"email_address":["has already been taken"]}`},
		{name: "email taken case-insensitively", fields: map[string]any{"email_address": "JUN.TANAKA@summitridge.example"}, wantStatus: 422, wantErrors: `{"email_address":["has already been taken"]}`},
		{name: "email of another company is free", fields: map[string]any{"email_address": "samuel@harborlight.example"}, wantStatus: 200},
		{name: "blank email", fields: map[string]any{"email_address": ""}, wantStatus: 422, wantErrors: `{"email_address":["can't be blank"]}`},
		{name: "blank last_name", fields: map[string]any{"last_name": "  "}, wantStatus: 422, wantErrors: `{"last_name":["can't be blank"]}`},
		{name: "null last_name", fields: map[string]any{"last_name": nil}, wantStatus: 422, wantErrors: `{"last_name":["can't be blank"]}`},
		{name: "wrong type string", fields: map[string]any{"city": 12}, wantStatus: 422, wantErrors: `{"city":["is invalid"]}`},
		{name: "wrong type integer", fields: map[string]any{"business_phone_extension": "214"}, wantStatus: 422, wantErrors: `{"business_phone_extension":["is invalid"]}`},
		{name: "fractional integer", fields: map[string]any{"business_phone_extension": 2.5}, wantStatus: 422, wantErrors: `{"business_phone_extension":["is invalid"]}`},
		{name: "wrong type boolean", fields: map[string]any{"is_active": "yes"}, wantStatus: 422, wantErrors: `{"is_active":["is invalid"]}`},
		{name: "country lower case", fields: map[string]any{"country_code": "us"}, wantStatus: 422, wantErrors: `{"country_code":["is not a valid ISO 3166-1 alpha-2 country code"]}`},
		{name: "country alpha-3", fields: map[string]any{"country_code": "USA"}, wantStatus: 422, wantErrors: `{"country_code":["is not a valid ISO 3166-1 alpha-2 country code"]}`},
		{name: "country unknown", fields: map[string]any{"country_code": "ZZ"}, wantStatus: 422, wantErrors: `{"country_code":["is not a valid ISO 3166-1 alpha-2 country code"]}`},
		{name: "state of stored country", fields: map[string]any{"state_code": "CA"}, wantStatus: 200},
		{name: "state not in stored country", fields: map[string]any{"state_code": "NSW"}, wantStatus: 422, wantErrors: `{"state_code":["is not a subdivision of US"]}`},
		{name: "state with prefix", fields: map[string]any{"state_code": "US-CA"}, wantStatus: 422, wantErrors: `{"state_code":["is not a subdivision of US"]}`},
		{name: "country change keeps old state", fields: map[string]any{"country_code": "AU"}, wantStatus: 422, wantErrors: `{"state_code":["is not a subdivision of AU"]}`},
		{name: "country and state AU-NSW", fields: map[string]any{"country_code": "AU", "state_code": "NSW"}, wantStatus: 200},
		{name: "country and state DE-BE", fields: map[string]any{"country_code": "DE", "state_code": "BE"}, wantStatus: 200},
		{name: "country and state CA-BC", fields: map[string]any{"country_code": "CA", "state_code": "BC"}, wantStatus: 200},
		{name: "country cleared with state", fields: map[string]any{"country_code": nil, "state_code": nil}, wantStatus: 200},
		{name: "state without country", fields: map[string]any{"country_code": nil}, wantStatus: 422, wantErrors: `{"state_code":["requires a country_code"]}`},
		{name: "unknown vendor", fields: map[string]any{"vendor_id": 999}, wantStatus: 422, wantErrors: `{"vendor_id":["does not exist"]}`},
		{name: "vendor of company", fields: map[string]any{"vendor_id": 302}, wantStatus: 200},
		{name: "template of other company", fields: map[string]any{"default_permission_template_id": 77}, wantStatus: 422, wantErrors: `{"default_permission_template_id":["does not exist"]}`},
		{name: "unknown company template", fields: map[string]any{"company_permission_template_id": 1}, wantStatus: 422, wantErrors: `{"company_permission_template_id":["does not exist"]}`},
		{name: "unknown work classification", fields: map[string]any{"work_classification_id": 8}, wantStatus: 422, wantErrors: `{"work_classification_id":["does not exist"]}`},
		{name: "all errors collected", fields: map[string]any{"last_name": "", "email_address": "x", "vendor_id": 1, "is_employee": 3, "country_code": "XX"}, wantStatus: 422,
			wantErrors: `{"country_code":["is not a valid ISO 3166-1 alpha-2 country code"],"email_address":["is invalid"],"is_employee":["is invalid"],"last_name":["can't be blank"],"vendor_id":["does not exist"]}`},
		{name: "avatar in JSON", fields: map[string]any{"avatar": "http://x/y.png"}, wantStatus: 422, wantErrors: `{"avatar":["is invalid"]}`},
		{name: "configurable validations off", fields: map[string]any{"job_title": nil, "mobile_phone": ""}, wantStatus: 200},
		{name: "configurable validations on", query: "?run_configurable_validations=true", fields: map[string]any{"job_title": nil, "mobile_phone": ""}, wantStatus: 422,
			wantErrors: `{"job_title":["can't be blank"],"mobile_phone":["can't be blank"]}`},
		{name: "configurable validations explicit false", query: "?run_configurable_validations=false", fields: map[string]any{"job_title": nil}, wantStatus: 200},
		{name: "configurable validations on, record complete", query: "?run_configurable_validations=true", fields: map[string]any{"notes": nil}, wantStatus: 200},
		// Jun (1002) has no business_phone; the company's rules are job_title and mobile_phone only.
		{name: "configurable validations on other user", user: 1002, query: "?run_configurable_validations=true", fields: map[string]any{"last_name": "Tanaka", "email_address": "jun.tanaka@summitridge.example", "mobile_phone": nil}, wantStatus: 422,
			wantErrors: `{"mobile_phone":["can't be blank"]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEmu(t)
			tok := mustToken(t, e, adminClient)
			uid := tc.user
			fields := tc.fields
			if uid == 0 {
				uid = 1001
				fields = withRequired(tc.fields)
			}
			before, _ := e.User(summit, uid)
			w := do(t, e, call{method: "PATCH", path: userPath(summit, uid) + tc.query, token: tok, body: patchBody(fields)})
			if w.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.wantStatus, w.Body)
			}
			if tc.wantStatus == 422 {
				if got := w.Body.String(); got != `{"errors":`+tc.wantErrors+`}` {
					t.Errorf("body %s, want errors %s", got, tc.wantErrors)
				}
				if after, _ := e.User(summit, uid); string(after) != string(before) {
					t.Errorf("failed validation changed the record")
				}
			}
		})
	}
}

// TestUpdateApplies checks the extended shape, which renders every stored
// attribute; TestResponseShape covers the published one.
func TestUpdateApplies(t *testing.T) {
	clock := newClock()
	e := newEmu(t, WithClock(clock.Now), WithResponseShape(ResponseShapeExtended))
	tok := mustToken(t, e, adminClient)
	body := []byte(`{"user":{"last_name":"Diaz","email_address":"maria.diaz@summitridge.example","first_name":"María",
		"fax_number":"+1 503 555 0000","notes":null,"business_phone_extension":99,"is_active":false,"add_to_new_projects":true,
		"vendor_id":302,"default_permission_template_id":43,"company_permission_template_id":42,"work_classification_id":9,
		"employee_id":"E-1","unknown_key":"ignored","id":5,"name":"Hacker"}}`)
	w := do(t, e, call{method: "PATCH", path: userPath(summit, 1001), token: tok, body: body})
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	u := decode(t, w.Body.Bytes())
	want := map[string]any{
		"id": 1001.0, "name": "María Diaz", "first_name": "María", "last_name": "Diaz",
		"email_address": "maria.diaz@summitridge.example", "fax_number": "+1 503 555 0000", "notes": nil,
		"business_phone_extension": 99.0, "is_active": false, "add_to_new_projects": true,
		"vendor_id": 302.0, "vendor": map[string]any{"id": 302.0, "name": "Bluewater Plumbing & Mechanical"},
		"default_permission_template_id": 43.0, "permission_template": map[string]any{"id": 43.0, "name": "Read Only"},
		"company_permission_template_id": 42.0, "company_permission_template": map[string]any{"id": 42.0, "name": "Superintendent"},
		"work_classification_id": 9.0, "employee_id": "E-1",
		"updated_at": "2026-11-29T10:00:00Z", "created_at": "2024-03-01T18:22:05Z",
		"job_title": "Project Manager", // not sent, unchanged
	}
	for k, v := range want {
		if !equalJSON(u[k], v) {
			t.Errorf("%s = %#v, want %#v", k, u[k], v)
		}
	}
	for _, k := range []string{"role", "verified_employee", "unknown_key"} {
		if _, ok := u[k]; ok {
			t.Errorf("update response has %s", k)
		}
	}
	shown, _ := e.User(summit, 1001)
	if !strings.Contains(string(shown), `"last_name":"Diaz"`) {
		t.Errorf("update not stored: %s", shown)
	}
	if reqs := e.Requests(); !strings.Contains(string(reqs[0].Body), "unknown_key") {
		t.Errorf("unknown key not in the log: %s", reqs[0].Body)
	}
	// Sending a value with a different JSON number spelling of the same int.
	w = do(t, e, call{method: "PATCH", path: userPath(summit, 1001), token: tok, body: []byte(`{"user":{"last_name":"Diaz","email_address":"maria.diaz@summitridge.example","business_phone_extension":1e2}}`)})
	if w.Code != 200 || decode(t, w.Body.Bytes())["business_phone_extension"] != 100.0 {
		t.Errorf("1e2: %d %s", w.Code, w.Body)
	}
}

func TestAdminOnlyFields(t *testing.T) {
	// Stored values of user 1002: email jun.tanaka@..., templates 42 / 43, add_to_new_projects false.
	base := map[string]any{"last_name": "Tanaka", "email_address": "jun.tanaka@summitridge.example"}
	tests := []struct {
		name       string
		client     string
		fields     map[string]any
		wantStatus int
		wantField  string
	}{
		{"same values accepted for non-admin", fieldClient, map[string]any{"default_permission_template_id": 42, "company_permission_template_id": 43, "add_to_new_projects": false}, 200, ""},
		{"changed email rejected", fieldClient, map[string]any{"email_address": "jun@summitridge.example"}, 403, "email_address"},
		{"changed default template rejected", fieldClient, map[string]any{"default_permission_template_id": 41}, 403, "default_permission_template_id"},
		{"cleared company template rejected", fieldClient, map[string]any{"company_permission_template_id": nil}, 403, "company_permission_template_id"},
		{"changed add_to_new_projects rejected", fieldClient, map[string]any{"add_to_new_projects": true}, 403, "add_to_new_projects"},
		{"wrong type counts as a change", fieldClient, map[string]any{"add_to_new_projects": "false"}, 403, "add_to_new_projects"},
		{"admin may change all", adminClient, map[string]any{"email_address": "jun@summitridge.example", "default_permission_template_id": 41, "company_permission_template_id": nil, "add_to_new_projects": true}, 200, ""},
		{"non-admin may change other fields", fieldClient, map[string]any{"job_title": "Lead"}, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEmu(t)
			fields := map[string]any{}
			for k, v := range base {
				fields[k] = v
			}
			for k, v := range tc.fields {
				fields[k] = v
			}
			w := do(t, e, call{method: "PATCH", path: userPath(summit, 1002), token: mustToken(t, e, tc.client), body: patchBody(fields)})
			if w.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.wantStatus, w.Body)
			}
			if tc.wantField != "" && w.Body.String() != `{"errors":"You do not have permission to change `+tc.wantField+`"}` {
				t.Errorf("body %s", w.Body)
			}
		})
	}
}

func TestPartialBodies(t *testing.T) {
	body := patchBody(map[string]any{"is_active": false})
	tests := []struct {
		partial    bool
		wantStatus int
	}{{false, http.StatusBadRequest}, {true, http.StatusOK}}
	for _, tc := range tests {
		e := newEmu(t, WithPartialBodies(tc.partial))
		w := do(t, e, call{method: "PATCH", path: userPath(summit, 1001), token: mustToken(t, e, fieldClient), body: body})
		if w.Code != tc.wantStatus {
			t.Errorf("partial=%v: %d %s", tc.partial, w.Code, w.Body)
		}
		if tc.partial {
			u := decode(t, w.Body.Bytes())
			if u["is_active"] != false || u["last_name"] != "Okafor" {
				t.Errorf("partial update: %s", w.Body)
			}
		}
	}
}

// TestConcurrentUpdates runs updates, shows and lists in parallel, for -race
// and for uniqueness under concurrency: two users racing to one e-mail.
func TestConcurrentUpdates(t *testing.T) {
	e := newEmu(t, WithHourlyLimit(0), WithSpikeLimit(0))
	tok := mustToken(t, e, adminClient)
	done := make(chan int, 20)
	for i := range 20 {
		go func() {
			uid := int64(1001 + i%2)
			last := map[int64]string{1001: "Okafor", 1002: "Tanaka"}[uid]
			w := do(t, e, call{method: "PATCH", path: userPath(summit, uid), token: tok,
				body: patchBody(map[string]any{"last_name": last, "email_address": "same@summitridge.example"})})
			do(t, e, call{method: "GET", path: "/rest/v1.3/companies/8089/users", token: tok})
			done <- w.Code
		}()
	}
	ok := 0
	for range 20 {
		if <-done == 200 {
			ok++
		}
	}
	a, _ := e.User(summit, 1001)
	b, _ := e.User(summit, 1002)
	if strings.Contains(string(a), "same@") && strings.Contains(string(b), "same@") {
		t.Fatal("both users got the same e-mail")
	}
	if ok == 0 {
		t.Fatal("no update succeeded")
	}
}
