package procoretest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/procore-directory/procore-directory/upstream"
)

func TestDefaultSeedIsACopy(t *testing.T) {
	a := DefaultSeed()
	a[0] = 'X'
	if DefaultSeed()[0] == 'X' || !json.Valid(DefaultSeed()) {
		t.Fatal("DefaultSeed shares its bytes")
	}
}

func TestSeedOptions(t *testing.T) {
	custom := `{"oauth_clients":[{"client_id":"c","client_secret":"s","directory_admin":true,"company_ids":[1]}],
	"companies":[{"id":1,"name":"One","configurable_required_fields":[],"vendors":[],"permission_templates":[{"id":5,"name":"T"}],"work_classifications":[],
	"users":[{"id":9007199254740993,"first_name":null,"last_name":"Solo","email_address":"solo@one.example","add_to_new_projects":true,
	"permission_template":{"id":5,"name":"T"},"default_permission_template_id":null,"business_phone_extension":7,"role":"Admin","verified_employee":true,"business_id":"B1","is_insurance_manager":true}]}]}`
	path := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(path, []byte(custom), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, opt := range map[string]Option{"WithSeed": WithSeed([]byte(custom)), "WithSeedFile": WithSeedFile(path)} {
		t.Run(name, func(t *testing.T) {
			e := newEmu(t, opt)
			raw, ok := e.User(1, 9007199254740993) // IDs beyond 2^53
			if !ok {
				t.Fatal("user not loaded")
			}
			s := string(raw)
			for _, want := range []string{`"id":9007199254740993`, `"name":"Solo"`, `"add_to_new_projects":true`, `"default_permission_template_id":null`,
				`"business_phone_extension":7`, `"role":"Admin"`, `"verified_employee":true`, `"business_id":"B1"`, `"is_insurance_manager":true`} {
				if !strings.Contains(s, want) {
					t.Errorf("%s lacks %s", s, want)
				}
			}
			if cs := e.Clients(); len(cs) != 1 || cs[0].ClientID != "c" {
				t.Errorf("clients %+v", cs)
			}
		})
	}
}

func TestDefaultSeedDerivedFields(t *testing.T) {
	e := newEmu(t)
	tests := []struct {
		uid  int64
		want []string
	}{
		{1001, []string{`"vendor_id":null`, `"default_permission_template_id":41`, `"company_permission_template_id":null`, `"add_to_new_projects":false`}},
		{1002, []string{`"default_permission_template_id":42`, `"company_permission_template_id":43`, `"work_classification_id":7`}},
		{1003, []string{`"vendor_id":301`, `"default_permission_template_id":null`}},
		{1004, []string{`"name":"Zoë Müller-Łukasik"`, `"is_active":false`}},
	}
	for _, tc := range tests {
		raw, _ := e.User(summit, tc.uid)
		for _, w := range tc.want {
			if !strings.Contains(string(raw), w) {
				t.Errorf("user %d lacks %s: %s", tc.uid, w, raw)
			}
		}
	}
}

func TestBadSeedsAndOptions(t *testing.T) {
	tests := map[string]Option{
		"not JSON":          WithSeed([]byte("{")),
		"wrong type":        WithSeed([]byte(`{"companies":[{"id":1,"users":[{"id":1,"is_active":"yes"}]}]}`)),
		"duplicate company": WithSeed([]byte(`{"companies":[{"id":1},{"id":1}]}`)),
		"duplicate user":    WithSeed([]byte(`{"companies":[{"id":1,"users":[{"id":1},{"id":1}]}]}`)),
		"missing seed file": WithSeedFile(filepath.Join(t.TempDir(), "none.json")),
		"negative hourly":   WithHourlyLimit(-1),
		"negative spike":    WithSpikeLimit(-1),
		"zero TTL":          WithTokenTTL(0),
		"nil clock":         WithClock(nil),
		"nil logger":        WithLogger(nil),
		"zero request log":  WithRequestLogSize(0),
	}
	for name, opt := range tests {
		if _, err := New(opt); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

func TestReset(t *testing.T) {
	e := newEmu(t)
	tok := mustToken(t, e, adminClient)
	do(t, e, call{method: "PATCH", path: userPath(summit, 1001), token: tok, body: patchBody(withRequired(map[string]any{"city": "Salem"}))})
	before := len(e.Requests())
	e.Reset()
	raw, _ := e.User(summit, 1001)
	if !strings.Contains(string(raw), `"city":"Portland"`) || before != 1 || len(e.Requests()) != 0 {
		t.Fatalf("after Reset: %s, log %d", raw, len(e.Requests()))
	}
	if code := do(t, e, call{method: "GET", path: userPath(summit, 1001), token: tok}).Code; code != 401 {
		t.Fatalf("token survived Reset: %d", code)
	}
}

// TestISOData proves the data library has the subdivisions the contract names.
func TestISOData(t *testing.T) {
	iso := upstream.NewISO3166()
	for _, c := range [][2]string{{"US", "CA"}, {"US", "OR"}, {"US", "MA"}, {"US", "DC"}, {"CA", "BC"}, {"CA", "QC"}, {"AU", "NSW"}, {"AU", "VIC"}, {"DE", "BE"}, {"DE", "BY"}, {"GB", "ENG"}} {
		if !iso.ValidCountry(c[0]) || !iso.ValidSubdivision(c[0], c[1]) {
			t.Errorf("%s-%s missing", c[0], c[1])
		}
	}
	for _, c := range [][2]string{{"US", "NSW"}, {"AU", "CA"}, {"DE", "XX"}, {"us", "CA"}} {
		if iso.ValidSubdivision(c[0], c[1]) {
			t.Errorf("%s-%s accepted", c[0], c[1])
		}
	}
	if iso.ValidCountry("UK") || iso.ValidCountry("us") || !iso.ValidCountry("NZ") {
		t.Error("country codes wrong")
	}
}
