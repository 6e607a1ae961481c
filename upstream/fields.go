package upstream

// writableField is one body field of the PATCH and the JSON type the
// contract gives it.
type writableField struct {
	name string
	kind ValueKind
}

// writableFieldTable lists the writable body fields in the order of the
// seed description of the endpoint (avatar, a file, excluded). It is a
// function returning an array, not a package variable, so nothing can
// mutate it.
func writableFieldTable() [26]writableField {
	return [...]writableField{
		{"first_name", KindString},
		{"last_name", KindString},
		{"job_title", KindString},
		{"address", KindString},
		{"city", KindString},
		{"zip", KindString},
		{"business_phone", KindString},
		{"business_phone_extension", KindInt},
		{"mobile_phone", KindString},
		{"fax_number", KindString},
		{"email_address", KindString},
		{"email_signature", KindString},
		{"is_active", KindBool},
		{"is_employee", KindBool},
		{"employee_id", KindString},
		{"notes", KindString},
		{"country_code", KindString},
		{"state_code", KindString},
		{"initials", KindString},
		{"origin_id", KindString},
		{"origin_data", KindString},
		{"vendor_id", KindInt},
		{"default_permission_template_id", KindInt},
		{"company_permission_template_id", KindInt},
		{"work_classification_id", KindInt},
		{"add_to_new_projects", KindBool},
	}
}

// WritableFields returns the names of the 26 body fields Procore's update
// accepts, in the order of the endpoint's description. A Patch naming any
// other field is refused by UpdateCompanyUser before anything is sent, so
// a typo never reaches Procore (which would silently ignore it).
func WritableFields() []string {
	t := writableFieldTable()
	names := make([]string, len(t))
	for i, f := range t {
		names[i] = f.name
	}
	return names
}

// writableKind returns the JSON type of a writable field.
func writableKind(name string) (ValueKind, bool) {
	for _, f := range writableFieldTable() {
		if f.name == name {
			return f.kind, true
		}
	}
	return 0, false
}
