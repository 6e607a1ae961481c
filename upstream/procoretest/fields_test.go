package procoretest

import (
	"slices"
	"testing"

	"github.com/procore-directory/procore-directory/upstream"
)

// TestFieldTableFromUpstream: the emulator's field table is upstream's, so
// a field added to or retyped in package upstream reaches the emulator, and
// the published admin-only and required sets hold.
func TestFieldTableFromUpstream(t *testing.T) {
	ft, err := newFieldTable()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range ft.editable {
		names = append(names, f.name)
	}
	if want := upstream.WritableFields(); !slices.Equal(names, want) {
		t.Fatalf("editable %v\nwant %v", names, want)
	}
	if want := []string{"email_address", "default_permission_template_id", "company_permission_template_id", "add_to_new_projects"}; !slices.Equal(ft.adminOnly, want) {
		t.Errorf("admin-only %v, want %v", ft.adminOnly, want)
	}
	if want := []string{"last_name", "email_address"}; !slices.Equal(ft.required, want) {
		t.Errorf("required %v, want %v", ft.required, want)
	}
	kinds := map[string]fieldKind{"business_phone_extension": kindInt, "is_active": kindBool, "vendor_id": kindInt, "employee_id": kindString, "zip": kindString}
	for name, want := range kinds {
		if got, ok := ft.kind(name); !ok || got != want {
			t.Errorf("kind(%s) = %v %v, want %v", name, got, ok, want)
		}
	}
	if _, ok := ft.kind("avatar"); ok {
		t.Error("avatar is a file, not a table field")
	}
	// Every writable field is rendered.
	e := newEmu(t)
	raw, _ := e.User(summit, 1001)
	u := decode(t, raw)
	for _, n := range names {
		if _, ok := u[n]; !ok {
			t.Errorf("rendered user lacks %s", n)
		}
	}
}
