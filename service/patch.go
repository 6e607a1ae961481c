package service

import (
	"fmt"

	"google.golang.org/protobuf/reflect/protoreflect"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/upstream"
)

// buildPatch is the mask-to-PATCH translation: each masked field set in
// user is sent with its value, each masked field not set is cleared
// (AIP-134: a masked field absent from the resource is reset) with its
// clear value (clearing, below), and nothing else is sent. CompanyUser's
// writable fields carry Procore's names, so a field's proto name is its
// Procore name.
//
// cleared names the masked fields it clears, in field order: the field
// rule refuses a mask that clears a field Procore requires
// (fieldRule.plan), which this translation does not know.
func buildPatch(user *directoryv1.CompanyUser, fields []protoreflect.FieldDescriptor, clears clearing) (patch upstream.Patch, cleared []string) {
	patch.Grow(len(fields))
	m := user.ProtoReflect()
	for _, fd := range fields {
		name := string(fd.Name())
		if !m.Has(fd) {
			patch.Set(name, clears.value(fd))
			cleared = append(cleared, name)
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
		// newClearing refuses any other kind, so no masked field is dropped.
	}
	return patch, cleared
}

// clearing is the value an update sends to clear each writable field: a
// masked field that the request's user does not set (AIP-134). Procore's
// published schema marks no request field nullable, so a clear is sent as
// a value of the field's own JSON type whenever one means "none", and as
// JSON null only where none does:
//
//   - boolean: false, the proto default (AIP-134), a published value that
//     every Procore accepts, null-clearing or not;
//   - string: "", the proto default, when the proto's own rules accept ""
//     for the field; null for the fields whose rules refuse it (the ISO
//     codes country_code and state_code: "" is no code, Procore would 422);
//   - integer: null. The proto default 0 is no "none": ids are positive
//     and 0 is a real phone extension. A Procore that refuses null answers
//     422 "can't be null", which the caller gets as INVALID_ARGUMENT on
//     user.<field>.
//
// It is derived once from the descriptor and the proto's rules, so a new
// field is cleared by the same reasoning without an entry here.
type clearing map[protoreflect.Name]upstream.Value

// newClearing works out the clear value of every writable field. It fails
// if a writable field has a kind the patch cannot carry (neither string,
// int64 nor bool), so that a proto change cannot make the service silently
// drop a field.
func newClearing(fields *userFields, v *validator) (clearing, error) {
	c := make(clearing, len(fields.writable))
	for _, fd := range fields.writable {
		switch fd.Kind() {
		case protoreflect.BoolKind:
			c[fd.Name()] = upstream.BoolValue(false)
		case protoreflect.StringKind:
			if v.acceptsEmpty(fd) {
				c[fd.Name()] = upstream.StringValue("")
			} else {
				c[fd.Name()] = upstream.NullValue()
			}
		case protoreflect.Int64Kind:
			c[fd.Name()] = upstream.NullValue()
		default:
			return nil, fmt.Errorf("service: writable field %s has kind %v, which the upstream patch cannot carry", fd.Name(), fd.Kind())
		}
	}
	return c, nil
}

// value returns the clear value of a writable field.
func (c clearing) value(fd protoreflect.FieldDescriptor) upstream.Value {
	if v, ok := c[fd.Name()]; ok {
		return v
	}
	return upstream.NullValue()
}

// acceptsEmpty reports whether the proto's rules accept "" for the string
// field fd of CompanyUser.
func (v *validator) acceptsEmpty(fd protoreflect.FieldDescriptor) bool {
	u := &directoryv1.CompanyUser{}
	u.ProtoReflect().Set(fd, protoreflect.ValueOfString(""))
	return len(v.protoViolations(u)) == 0
}
