package service

import (
	"fmt"

	"google.golang.org/genproto/googleapis/rpc/errdetails"

	"github.com/procore-directory/procore-directory/upstream"
)

// Field names Procore requires in every PATCH body (see the contract): the
// required-fields rule, masks that would clear them and the admin-only
// e-mail rule treat them specially.
const (
	fieldLastName     = "last_name"
	fieldEmailAddress = "email_address"
)

// requiredFields are the fields Procore's reference requires in every PATCH.
func requiredFields() [2]string { return [...]string{fieldLastName, fieldEmailAddress} }

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

// rule is the one place the mode is applied. Given the planned patch,
// whether the update writes anything, and the violations found so far, it
// returns the required fields to fill from the current record (fill mode),
// or the violations that refuse the update (reject mode). An update that
// writes nothing needs neither.
func (m RequiredFieldsMode) rule(patch *upstream.Patch, writes bool, found []*errdetails.BadRequest_FieldViolation) (fill []string, violations []*errdetails.BadRequest_FieldViolation) {
	if !writes {
		return nil, nil
	}
	for _, name := range requiredFields() {
		if _, sent := patch.Value(name); sent {
			continue
		}
		switch m {
		case RequiredFieldsFill:
			fill = append(fill, name)
		case RequiredFieldsReject:
			if !hasViolation(found, "user."+name) {
				violations = append(violations, &errdetails.BadRequest_FieldViolation{
					Field:       "update_mask",
					Description: fmt.Sprintf("must include %s: Procore requires it in every update (this server runs with --required-fields=reject)", name),
					Reason:      "REQUIRED_FIELD_NOT_MASKED",
				})
			}
		}
	}
	return fill, violations
}

// requiredValue is a required field's value in a record, nil when absent.
func requiredValue(u *upstream.User, name string) *string {
	switch name {
	case fieldLastName:
		return u.LastName
	case fieldEmailAddress:
		return u.EmailAddress
	}
	return nil
}
