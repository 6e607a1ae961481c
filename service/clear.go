package service

import (
	"google.golang.org/protobuf/reflect/protoreflect"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/upstream"
)

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

// newClearing works out the clear value of every writable field.
// acceptsEmpty reports whether the proto's rules accept "" for a field.
func newClearing(fields *userFields, v *validator) clearing {
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
		default:
			c[fd.Name()] = upstream.NullValue()
		}
	}
	return c
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
