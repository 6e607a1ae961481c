package upstream

import (
	"encoding/json"
	"reflect"
	"testing"
)

// publishedUserJSON is an update answer with every member decodeUser reads
// set, the published ones (contact_id ... verified_employee) included.
const publishedUserJSON = `{"id":1001,"name":"Maria Diaz","first_name":"Maria","last_name":"Diaz","job_title":"PM","address":"1200 Alder Street","city":"Portland","zip":"97205","business_phone":"+1 503 555 0142","business_phone_extension":214,"mobile_phone":"+1 503 555 0199","fax_number":"+1 503 555 0100","email_address":"ana.diaz@summitridge.example","email_signature":"Maria","is_active":true,"is_employee":true,"employee_id":"SRC-0042","notes":"n","country_code":"US","state_code":"OR","initials":"MD","origin_id":"hr-7781","origin_data":"{}","vendor_id":301,"default_permission_template_id":41,"company_permission_template_id":43,"work_classification_id":7,"add_to_new_projects":true,"vendor":{"id":301,"name":"Granite"},"permission_template":{"id":41,"name":"PM"},"company_permission_template":{"id":43,"name":"RO"},"avatar":"https://example.invalid/a.png","last_login_at":"2026-11-20T16:04:11Z","welcome_email_sent_at":"2024-03-02T09:00:00Z","created_at":"2024-03-01T18:22:05Z","updated_at":"2026-11-29T03:32:46Z","contact_id":7700101,"business_id":"SRC-PM-0042","is_insurance_manager":true,"role":"Project Manager","verified_employee":true}`

// TestDecodeUserOptionalMembers drops each member but id from a complete
// answer, and sets it to null: decoding must succeed either way, leave
// that member's User field empty and every other field as it was. Procore's
// published answers lack some members the emulator's extended shape has
// (and the reverse), so no optional member may be load-bearing.
func TestDecodeUserOptionalMembers(t *testing.T) {
	var full map[string]json.RawMessage
	if err := json.Unmarshal([]byte(publishedUserJSON), &full); err != nil {
		t.Fatal(err)
	}
	members := jsonUserMembers()
	for _, m := range members {
		if _, ok := full[m]; !ok {
			t.Fatalf("publishedUserJSON lacks %s: the test would not cover it", m)
		}
	}
	base, err := decodeUser([]byte(publishedUserJSON))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		if m == "id" {
			continue
		}
		for _, variant := range []string{"absent", "null"} {
			t.Run(m+"/"+variant, func(t *testing.T) {
				body := make(map[string]json.RawMessage, len(full))
				for k, v := range full {
					body[k] = v
				}
				if variant == "absent" {
					delete(body, m)
				} else {
					body[m] = json.RawMessage("null")
				}
				raw, err := json.Marshal(body)
				if err != nil {
					t.Fatal(err)
				}
				u, err := decodeUser(raw)
				if err != nil {
					t.Fatalf("decode without %s: %v", m, err)
				}
				diff := changedUserFields(base, u)
				// The objects and their id members stand in for each other
				// (userjson.go), so removing one of a pair changes nothing.
				if len(diff) > 1 {
					t.Errorf("%s %s changed %v, want at most its own field", m, variant, diff)
				}
				derived := map[string]bool{"vendor_id": true, "default_permission_template_id": true, "company_permission_template_id": true}
				for _, f := range Fields() {
					if f.Name == m && !f.Value(u).IsNull() && !derived[m] {
						t.Errorf("%s %s decodes as %v, want null", m, variant, f.Value(u))
					}
				}
			})
		}
	}
}

// jsonUserMembers returns every member name jsonUser reads.
func jsonUserMembers() []string {
	wire := reflect.TypeFor[jsonUser]()
	names := make([]string, 0, wire.NumField())
	for i := range wire.NumField() {
		names = append(names, wire.Field(i).Tag.Get("json"))
	}
	return names
}

// changedUserFields names the User fields that differ between a and b.
func changedUserFields(a, b *User) []string {
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	var out []string
	for i := range va.NumField() {
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			out = append(out, va.Type().Field(i).Name)
		}
	}
	return out
}
