package service

import (
	"errors"
	"fmt"
	"strings"

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
	// RequiredFieldsAuto sends only the masked fields first; if Procore
	// refuses the body for a missing required field (400 or 422 naming
	// last_name or email_address: certainly not applied), it fills the two
	// from the current record (one GET) and sends once more, and remembers
	// the company (PartialBodyMemory), so its later updates fill at once.
	// Where partial bodies are accepted an update costs one Procore request
	// instead of fill's two; where they are not, the first update of each
	// company costs one more. Procore's rate budget is what callers pay
	// most for, hence the default.
	RequiredFieldsAuto
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
	case RequiredFieldsAuto:
		return "auto"
	default:
		return fmt.Sprintf("RequiredFieldsMode(%d)", int(m))
	}
}

// ParseRequiredFieldsMode parses the flag spelling: auto, fill, masked-only
// or reject.
func ParseRequiredFieldsMode(s string) (RequiredFieldsMode, error) {
	for _, m := range []RequiredFieldsMode{RequiredFieldsAuto, RequiredFieldsFill, RequiredFieldsMaskedOnly, RequiredFieldsReject} {
		if s == m.String() {
			return m, nil
		}
	}
	return 0, fmt.Errorf("required-fields mode %q: want auto, fill, masked-only or reject", s)
}

// requiredPlan is what the required-fields rule decides for one update.
type requiredPlan struct {
	// fill are copied, unchanged, from the current record into the patch
	// before it is sent (fill mode, and auto mode for a company known to
	// refuse partial bodies).
	fill []upstream.Field
	// onRefusal are filled only if Procore refuses the body without them
	// (auto mode otherwise).
	onRefusal []upstream.Field
	// withheld are left out although Procore requires them, because the
	// credential may not send them (below); the caller is told why if
	// Procore refuses the body for their lack (explainWithheld).
	withheld []upstream.Field
}

// rule is the one place the mode is applied. Given Procore's rules, the
// planned patch, whether the update writes anything, and the violations
// found so far, it returns what to do about the required fields the mask
// leaves out, or the violations that refuse the update (reject mode).
// refusesPartial asks the memory of auto mode; it is called only when its
// answer matters. An update that writes nothing needs none of it.
//
// When Procore reads the admin-only rule as AdminFieldsIncluded and the
// credential it sees is not known to be a Directory Admin's, no mode fills
// a required field that is also admin-only (email_address): sending it,
// even unchanged, would make Procore refuse every update of a caller whose
// credential lacks Directory Admin rights, for a field that caller never
// asked to send. It is withheld, as in masked-only mode, and Procore
// judges the partial body.
func (m RequiredFieldsMode) rule(procore procoreRules, patch *upstream.Patch, writes bool, found []*errdetails.BadRequest_FieldViolation, refusesPartial func() bool) (requiredPlan, []*errdetails.BadRequest_FieldViolation) {
	var (
		plan       requiredPlan
		violations []*errdetails.BadRequest_FieldViolation
	)
	if !writes {
		return plan, nil
	}
	for _, f := range procore.required {
		name := f.Name
		if _, sent := patch.Value(name); sent {
			continue
		}
		withhold := procore.adminFields == AdminFieldsIncluded && !procore.adminCredential && f.AdminOnly
		switch {
		case withhold && (m == RequiredFieldsFill || m == RequiredFieldsAuto):
			plan.withheld = append(plan.withheld, f)
		case m == RequiredFieldsFill:
			plan.fill = append(plan.fill, f)
		case m == RequiredFieldsAuto:
			plan.onRefusal = append(plan.onRefusal, f)
		case m == RequiredFieldsReject:
			if !hasViolation(found, "user."+name) {
				violations = append(violations, &errdetails.BadRequest_FieldViolation{
					Field:       "update_mask",
					Description: fmt.Sprintf("must include %s: Procore requires it in every update (this server runs with --required-fields=reject)", name),
					Reason:      "REQUIRED_FIELD_NOT_MASKED",
				})
			}
		}
	}
	if len(plan.onRefusal) > 0 && refusesPartial() {
		plan.fill, plan.onRefusal = plan.onRefusal, nil
	}
	return plan, violations
}

// refusedForMissing reports whether err is Procore refusing a PATCH body
// because it lacks one of the fields left out (a 400 or 422 naming it):
// such a PATCH was certainly not applied, so sending it again with the
// field is safe. A complaint about a field the body did carry (a blank
// last_name the caller sent) is not one.
func refusedForMissing(err error, left []upstream.Field) bool {
	var ue *upstream.Error
	if len(left) == 0 || !errors.As(err, &ue) || ue.Kind != upstream.KindStatus ||
		(ue.StatusCode != http400 && ue.StatusCode != http422) {
		return false
	}
	for _, fe := range ue.FieldErrors {
		// A flat error body names its fields in one comma-separated string.
		for _, name := range strings.Split(fe.Field, ",") {
			for _, f := range left {
				if strings.TrimSpace(name) == f.Name {
					return true
				}
			}
		}
	}
	return false
}

// The statuses Procore refuses a body with; named here so that the core
// need not import net/http.
const (
	http400 = 400
	http422 = 422
)
