package service

import (
	"fmt"
	"math/bits"
	"slices"
	"strings"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

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

// newUserFields reads the CompanyUser descriptor. Which kinds a writable
// field may have is the translation's to say (newClearing, patch.go).
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

// wildcardPath is AIP-134's full-replacement mask path.
const wildcardPath = "*"

// resolveMask turns an update request's mask into the writable CompanyUser
// fields the update changes, in field-number order, following AIP-134 and
// AIP-161 exactly:
//
//   - AIP-134: with no mask, or an empty one, the implied mask is every
//     field populated in the resource (here: every writable field set in user).
//   - AIP-134: the single path "*" means full replacement: every writable
//     field, so writable fields not set in user are cleared.
//   - AIP-161: a path that names no field, or descends into a field that is
//     not a message, is an error (INVALID_ARGUMENT on update_mask).
//   - AIP-161: OUTPUT_ONLY fields named in the mask are ignored.
//   - Paths may repeat; a repeated path changes nothing.
//
// The returned violations are all the mask's problems, not just the first.
func (uf *userFields) resolveMask(mask *fieldmaskpb.FieldMask, user *directoryv1.CompanyUser) ([]protoreflect.FieldDescriptor, []*errdetails.BadRequest_FieldViolation) {
	paths := mask.GetPaths()
	if len(paths) == 0 {
		return uf.populated(user), nil
	}
	if len(paths) == 1 && paths[0] == wildcardPath {
		return uf.writable, nil
	}
	var (
		violations []*errdetails.BadRequest_FieldViolation
		selected   fieldSet
	)
	for _, path := range paths {
		name, err := uf.checkPath(path)
		if err != nil {
			violations = append(violations, &errdetails.BadRequest_FieldViolation{
				Field:       "update_mask",
				Description: err.Error(),
				Reason:      "INVALID_UPDATE_MASK",
			})
			continue
		}
		if name != "" {
			selected.add(uf.index[name])
		}
	}
	if len(violations) > 0 {
		return nil, violations
	}
	fields := make([]protoreflect.FieldDescriptor, 0, selected.len())
	for i, fd := range uf.writable {
		if selected.has(i) {
			fields = append(fields, fd)
		}
	}
	return fields, nil
}

// checkPath validates one mask path against CompanyUser. It returns the
// top-level writable field the path selects, or "" for a valid path into an
// OUTPUT_ONLY field (which AIP-161 says to ignore).
func (uf *userFields) checkPath(path string) (protoreflect.Name, error) {
	if path == wildcardPath {
		return "", fmt.Errorf("%q must be the only path of a mask that uses it (AIP-134 full replacement)", wildcardPath)
	}
	// The segments are walked with strings.Cut rather than split into a
	// slice: no allocation for a valid path.
	desc := uf.desc
	var top protoreflect.FieldDescriptor
	prev, rest := "", path
	for i := 0; ; i++ {
		seg, tail, more := strings.Cut(rest, ".")
		if desc == nil {
			return "", fmt.Errorf("path %q: %q is not a message, so it has no field %q", path, prev, seg)
		}
		fd := desc.Fields().ByName(protoreflect.Name(seg))
		if fd == nil {
			return "", fmt.Errorf("path %q: %s has no field %q (paths use the proto field names, e.g. job_title)", path, desc.Name(), seg)
		}
		if i == 0 {
			top = fd
		}
		desc = nil
		if fd.Kind() == protoreflect.MessageKind && !fd.IsList() && !fd.IsMap() {
			desc = fd.Message()
		}
		if !more {
			break
		}
		prev, rest = seg, tail
	}
	if uf.outputOnly[top.Name()] {
		return "", nil
	}
	return top.Name(), nil
}

// populated lists the writable fields set in user: AIP-134's implied mask.
func (uf *userFields) populated(user *directoryv1.CompanyUser) []protoreflect.FieldDescriptor {
	m := user.ProtoReflect()
	var fields []protoreflect.FieldDescriptor
	for _, fd := range uf.writable {
		if m.Has(fd) {
			fields = append(fields, fd)
		}
	}
	return fields
}
