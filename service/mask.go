package service

import (
	"fmt"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
)

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
