package service

import (
	"fmt"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/reflect/protoreflect"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/upstream"
)

// buildPatch translates the resolved mask into the upstream patch: each
// masked field set in user is sent with its value, each masked field not set
// is cleared (AIP-134: a masked field absent from the resource is reset)
// with its clear value (clear.go: false, "" or null by JSON type), and
// nothing else is sent. CompanyUser's writable fields carry Procore's names,
// so a field's proto name is its Procore name.
//
// last_name and email_address cannot be cleared: Procore requires both, so a
// mask that would clear them is the caller's mistake; its violation is
// appended to violations, which buildPatch returns.
func buildPatch(user *directoryv1.CompanyUser, fields []protoreflect.FieldDescriptor, rules procoreRules, clears clearing, violations []*errdetails.BadRequest_FieldViolation) (upstream.Patch, []*errdetails.BadRequest_FieldViolation) {
	var patch upstream.Patch
	patch.Grow(len(fields))
	m := user.ProtoReflect()
	for _, fd := range fields {
		name := string(fd.Name())
		if !m.Has(fd) {
			if rules.isRequired(name) {
				violations = append(violations, &errdetails.BadRequest_FieldViolation{
					Field:       "user." + name,
					Description: fmt.Sprintf("%s is masked but not set: Procore requires it, so it cannot be cleared", name),
					Reason:      "REQUIRED_FIELD_CLEARED",
				})
				continue
			}
			patch.Set(name, clears.value(fd))
			continue
		}
		v := m.Get(fd)
		switch fd.Kind() {
		case protoreflect.StringKind:
			patch.SetString(name, v.String())
		case protoreflect.Int64Kind:
			patch.SetInt(name, v.Int())
		case protoreflect.BoolKind:
			patch.SetBool(name, v.Bool())
		}
		// newUserFields refuses any other kind, so no masked field is dropped.
	}
	return patch, violations
}
