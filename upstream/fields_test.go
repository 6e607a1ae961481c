package upstream

import (
	"reflect"
	"testing"
)

// TestFields pins the table Fields derives from jsonUser's tags: the
// writable fields of the endpoint's description, in its order, with their
// JSON types, and which are admin-only and required.
func TestFields(t *testing.T) {
	type row struct {
		name                        string
		kind                        ValueKind
		writable, adminOnly, needed bool
	}
	want := []row{
		{"id", KindInt, false, false, false},
		{"name", KindString, false, false, false},
		{"first_name", KindString, true, false, false},
		{"last_name", KindString, true, false, true},
		{"job_title", KindString, true, false, false},
		{"address", KindString, true, false, false},
		{"city", KindString, true, false, false},
		{"zip", KindString, true, false, false},
		{"business_phone", KindString, true, false, false},
		{"business_phone_extension", KindInt, true, false, false},
		{"mobile_phone", KindString, true, false, false},
		{"fax_number", KindString, true, false, false},
		{"email_address", KindString, true, true, true},
		{"email_signature", KindString, true, false, false},
		{"is_active", KindBool, true, false, false},
		{"is_employee", KindBool, true, false, false},
		{"employee_id", KindString, true, false, false},
		{"notes", KindString, true, false, false},
		{"country_code", KindString, true, false, false},
		{"state_code", KindString, true, false, false},
		{"initials", KindString, true, false, false},
		{"origin_id", KindString, true, false, false},
		{"origin_data", KindString, true, false, false},
		{"vendor_id", KindInt, true, false, false},
		{"default_permission_template_id", KindInt, true, true, false},
		{"company_permission_template_id", KindInt, true, true, false},
		{"work_classification_id", KindInt, true, false, false},
		{"add_to_new_projects", KindBool, true, true, false},
		{"avatar", KindString, false, false, false},
		{"contact_id", KindInt, false, false, false},
		{"business_id", KindString, false, false, false},
		{"is_insurance_manager", KindBool, false, false, false},
		{"role", KindString, false, false, false},
		{"verified_employee", KindBool, false, false, false},
	}
	var got []row
	for _, f := range Fields() {
		got = append(got, row{f.Name, f.Kind, f.Writable, f.AdminOnly, f.Required})
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Fields():\n got %v\nwant %v", got, want)
	}
	if n := len(WritableFields()); n != 26 {
		t.Errorf("%d writable fields, want 26", n)
	}
}

// TestFieldValue checks that every field reads its own User field: absent
// is null, and a set value comes back with the field's kind.
func TestFieldValue(t *testing.T) {
	u, err := decodeUser([]byte(emulatorUserJSON))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Value{
		"id": IntValue(1001), "name": StringValue("Maria Diaz"), "first_name": StringValue("Maria"),
		"business_phone_extension": IntValue(214), "fax_number": NullValue(), "is_active": BoolValue(true),
		"add_to_new_projects": BoolValue(false), "default_permission_template_id": IntValue(41),
		"vendor_id": NullValue(), "origin_data": StringValue(`{"source":"workday"}`), "avatar": NullValue(),
	}
	for _, f := range Fields() {
		got := f.Value(u)
		if w, ok := want[f.Name]; ok && got != w {
			t.Errorf("%s: %v, want %v", f.Name, got, w)
		}
		if !got.IsNull() && got.Kind() != f.Kind {
			t.Errorf("%s: kind %v, want %v", f.Name, got.Kind(), f.Kind)
		}
	}
}
