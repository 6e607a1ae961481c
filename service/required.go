package service

import "fmt"

// RequiredFieldsMode decides what an update does when its mask leaves out
// last_name or email_address, the two fields Procore's reference requires in
// every PATCH body. Partial bodies have been seen accepted in practice, so
// which behaviour is right depends on the Procore tenant; the mode makes the
// choice explicit instead of guessing. In no mode is any other unmasked field
// sent: that would overwrite data the caller did not ask to change.
type RequiredFieldsMode int

const (
	// RequiredFieldsFill reads the current record and sends last_name and
	// email_address unchanged, so a caller can change one field without
	// knowing the others. It costs one extra upstream GET per update, and a
	// change another writer makes to those two fields between the GET and the
	// PATCH is overwritten with the value read.
	RequiredFieldsFill RequiredFieldsMode = iota
	// RequiredFieldsMaskedOnly sends only the masked fields and lets Procore
	// judge the body.
	RequiredFieldsMaskedOnly
	// RequiredFieldsReject answers INVALID_ARGUMENT unless the mask names both.
	RequiredFieldsReject
)

// String returns the mode's flag spelling.
func (m RequiredFieldsMode) String() string {
	switch m {
	case RequiredFieldsFill:
		return "fill"
	case RequiredFieldsMaskedOnly:
		return "masked-only"
	case RequiredFieldsReject:
		return "reject"
	default:
		return fmt.Sprintf("RequiredFieldsMode(%d)", int(m))
	}
}

// ParseRequiredFieldsMode parses the flag spelling: fill, masked-only or reject.
func ParseRequiredFieldsMode(s string) (RequiredFieldsMode, error) {
	for _, m := range []RequiredFieldsMode{RequiredFieldsFill, RequiredFieldsMaskedOnly, RequiredFieldsReject} {
		if s == m.String() {
			return m, nil
		}
	}
	return 0, fmt.Errorf("required-fields mode %q: want fill, masked-only or reject", s)
}
