package service

import (
	"fmt"

	"google.golang.org/genproto/googleapis/rpc/errdetails"

	"github.com/procore-directory/procore-directory/upstream"
)

// fieldEmailAddress is the one admin-only field Procore also requires in
// every PATCH: sending it unchanged must pass (authz.go).
const fieldEmailAddress = "email_address"

// procoreRules are Procore's rules about fields, read once from the Procore
// client's field table (upstream.Fields), the one place they are written.
type procoreRules struct {
	// required are the fields Procore requires in every PATCH body
	// (last_name, email_address).
	required []upstream.Field
	// adminOnly are the fields only a Directory Admin may change.
	adminOnly []string
	// adminFields is how Procore reads the admin-only rule (WithAdminFields).
	adminFields AdminFields
	// adminCredential: the credential Procore sees is a Directory Admin's
	// (WithDirectoryAdminCredential).
	adminCredential bool
	// byName is every field, for comparing a read-back with a PATCH.
	byName map[string]upstream.Field
}

func newProcoreRules() procoreRules {
	r := procoreRules{byName: make(map[string]upstream.Field)}
	for _, f := range upstream.Fields() {
		r.byName[f.Name] = f
		if f.Required {
			r.required = append(r.required, f)
		}
		if f.AdminOnly {
			r.adminOnly = append(r.adminOnly, f.Name)
		}
	}
	return r
}

// isRequired reports whether Procore requires the field in every PATCH.
func (r procoreRules) isRequired(name string) bool {
	for _, f := range r.required {
		if f.Name == name {
			return true
		}
	}
	return false
}

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

// rule is the one place the mode is applied. Given Procore's rules, the
// planned patch, whether the update writes anything, and the violations
// found so far, it returns the required fields to fill from the current
// record (fill mode), those it withholds (below), or the violations that
// refuse the update (reject mode). An update that writes nothing needs
// none of them.
//
// When Procore reads the admin-only rule as AdminFieldsIncluded and the
// credential it sees is not known to be a Directory Admin's, fill mode
// does not fill a required field that is also admin-only (email_address):
// sending it, even unchanged, would make Procore refuse every update of a
// caller whose credential lacks Directory Admin rights, for a field that
// caller never asked to send. It is withheld, as in masked-only mode, and
// Procore judges the partial body; should Procore refuse it for lack of
// the field, the caller is told why it was not sent (explainWithheld).
func (m RequiredFieldsMode) rule(procore procoreRules, patch *upstream.Patch, writes bool, found []*errdetails.BadRequest_FieldViolation) (fill, withheld []upstream.Field, violations []*errdetails.BadRequest_FieldViolation) {
	if !writes {
		return nil, nil, nil
	}
	for _, f := range procore.required {
		name := f.Name
		if _, sent := patch.Value(name); sent {
			continue
		}
		switch m {
		case RequiredFieldsFill:
			if procore.adminFields == AdminFieldsIncluded && !procore.adminCredential && f.AdminOnly {
				withheld = append(withheld, f)
				continue
			}
			fill = append(fill, f)
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
	return fill, withheld, violations
}
