package procoretest

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
)

// fieldKind is the JSON type the contract's field table assigns to a field.
type fieldKind int

const (
	kindString fieldKind = iota
	kindInt
	kindBool
)

type fieldDef struct {
	name string
	kind fieldKind
}

// editableFields lists, in response order, every field PATCH may change
// (avatar aside, which is a file). Keeping one table makes JSON, multipart,
// seed loading and rendering agree on names and types.
func editableFields() [26]fieldDef {
	return [...]fieldDef{
		{"first_name", kindString},
		{"last_name", kindString},
		{"email_address", kindString},
		{"job_title", kindString},
		{"address", kindString},
		{"city", kindString},
		{"zip", kindString},
		{"country_code", kindString},
		{"state_code", kindString},
		{"business_phone", kindString},
		{"business_phone_extension", kindInt},
		{"mobile_phone", kindString},
		{"fax_number", kindString},
		{"email_signature", kindString},
		{"is_active", kindBool},
		{"is_employee", kindBool},
		{"employee_id", kindString},
		{"notes", kindString},
		{"initials", kindString},
		{"origin_id", kindString},
		{"origin_data", kindString},
		{"add_to_new_projects", kindBool},
		{"vendor_id", kindInt},
		{"default_permission_template_id", kindInt},
		{"company_permission_template_id", kindInt},
		{"work_classification_id", kindInt},
	}
}

// adminOnlyFields may be changed only by a Directory Admin client (published).
func adminOnlyFields() [4]string {
	return [...]string{
		"email_address",
		"default_permission_template_id",
		"company_permission_template_id",
		"add_to_new_projects",
	}
}

func fieldKindOf(name string) (fieldKind, bool) {
	for _, f := range editableFields() {
		if f.name == name {
			return f.kind, true
		}
	}
	return 0, false
}

// decodeJSONValue converts a raw JSON value to the stored representation for
// kind: nil (null), string, int64 or bool. ok is false for a wrong JSON type,
// which validation reports as "is invalid".
func decodeJSONValue(kind fieldKind, raw json.RawMessage) (any, bool) {
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		return nil, true
	}
	switch kind {
	case kindString:
		var s string
		if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
			return nil, false
		}
		return s, true
	case kindBool:
		switch string(raw) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
		return nil, false
	case kindInt:
		if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
			return nil, false
		}
		if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
			return n, true
		}
		// Accept 214.0 or 2.14e2 as Rails would, but not 2.5.
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return nil, false
		}
		return int64(f), true
	}
	return nil, false
}

// decodeFormValue converts a multipart/url-encoded value: an empty value
// clears, booleans are true/false (Rails also takes 1/0), integers decimal.
func decodeFormValue(kind fieldKind, s string) (any, bool) {
	if s == "" {
		return nil, true
	}
	switch kind {
	case kindString:
		return s, true
	case kindBool:
		switch s {
		case "true", "1":
			return true, true
		case "false", "0":
			return false, true
		}
		return nil, false
	case kindInt:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, false
		}
		return n, true
	}
	return nil, false
}
