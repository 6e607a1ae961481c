package service

import (
	"fmt"
	"math/bits"
	"slices"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
)

// userFields describes CompanyUser as update masks see it. It is derived from
// the proto descriptor and its google.api.field_behavior annotations, so the
// proto stays the single source of truth for which fields are writable.
type userFields struct {
	desc protoreflect.MessageDescriptor
	// writable lists the fields an update may change, in field-number order.
	// They are exactly the body fields of Procore's endpoint, by the same names.
	writable []protoreflect.FieldDescriptor
	// outputOnly holds the OUTPUT_ONLY fields, which AIP-161 says a mask may
	// name and the service must ignore.
	outputOnly map[protoreflect.Name]bool
	// index is each writable field's position in writable, so that a mask
	// is resolved into a bit set (fieldSet) rather than a map per call.
	index map[protoreflect.Name]int
}

// fieldSet is a set of positions in userFields.writable.
type fieldSet uint64

// maxWritableFields is how many writable fields a fieldSet can hold.
const maxWritableFields = 64

func (s *fieldSet) add(i int)     { *s |= 1 << uint(i) }
func (s fieldSet) has(i int) bool { return s&(1<<uint(i)) != 0 }
func (s fieldSet) len() int       { return bits.OnesCount64(uint64(s)) }

// newUserFields reads the CompanyUser descriptor. It fails if a writable
// field has a kind buildPatch cannot send, so that a proto change cannot make
// the service silently drop a field.
func newUserFields() (*userFields, error) {
	desc := (&directoryv1.CompanyUser{}).ProtoReflect().Descriptor()
	uf := &userFields{desc: desc, outputOnly: map[protoreflect.Name]bool{}}
	fields := desc.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if hasBehavior(fd, annotations.FieldBehavior_OUTPUT_ONLY) {
			uf.outputOnly[fd.Name()] = true
			continue
		}
		switch fd.Kind() {
		case protoreflect.StringKind, protoreflect.Int64Kind, protoreflect.BoolKind:
		default:
			return nil, fmt.Errorf("service: writable field %s has kind %v, which the upstream patch cannot carry", fd.Name(), fd.Kind())
		}
		uf.writable = append(uf.writable, fd)
	}
	slices.SortFunc(uf.writable, func(a, b protoreflect.FieldDescriptor) int { return int(a.Number() - b.Number()) })
	if len(uf.writable) > maxWritableFields {
		return nil, fmt.Errorf("service: %d writable fields: resolveMask's bit set holds %d", len(uf.writable), maxWritableFields)
	}
	uf.index = make(map[protoreflect.Name]int, len(uf.writable))
	for i, fd := range uf.writable {
		uf.index[fd.Name()] = i
	}
	return uf, nil
}

// hasBehavior reports whether fd is annotated with the field behavior b.
func hasBehavior(fd protoreflect.FieldDescriptor, b annotations.FieldBehavior) bool {
	opts := fd.Options()
	if opts == nil {
		return false
	}
	behaviors, _ := proto.GetExtension(opts, annotations.E_FieldBehavior).([]annotations.FieldBehavior)
	return slices.Contains(behaviors, b)
}
