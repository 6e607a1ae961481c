package service

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/upstream"
)

// userConverter converts Procore's user to the API's CompanyUser. The
// scalar fields are paired by name, upstream's field table with the proto
// descriptor, once, so that neither side's field list is written here; the
// embedded references and timestamps, which have no scalar counterpart,
// are converted by hand.
type userConverter struct {
	scalars []scalarPair
}

// scalarPair is one upstream scalar field and the proto field of the same
// name.
type scalarPair struct {
	from upstream.Field
	to   protoreflect.FieldDescriptor
}

// newUserConverter pairs every upstream scalar field with the CompanyUser
// field of the same name. It fails when a field has no counterpart or a
// counterpart of another kind, so that neither side can gain a field the
// other silently drops.
func newUserConverter() (*userConverter, error) {
	desc := (&directoryv1.CompanyUser{}).ProtoReflect().Descriptor()
	var c userConverter
	for _, f := range upstream.Fields() {
		fd := desc.Fields().ByName(protoreflect.Name(f.Name))
		if fd == nil {
			return nil, fmt.Errorf("service: Procore field %s has no CompanyUser field", f.Name)
		}
		if want := protoKind(f.Kind); fd.Kind() != want || fd.IsList() || fd.IsMap() {
			return nil, fmt.Errorf("service: CompanyUser.%s is a %v, Procore's a %v", f.Name, fd.Kind(), f.Kind)
		}
		c.scalars = append(c.scalars, scalarPair{from: f, to: fd})
	}
	return &c, nil
}

// protoKind is the proto kind an upstream value kind converts to.
func protoKind(k upstream.ValueKind) protoreflect.Kind {
	switch k {
	case upstream.KindInt:
		return protoreflect.Int64Kind
	case upstream.KindBool:
		return protoreflect.BoolKind
	}
	return protoreflect.StringKind
}

// toProto converts u. Absent and null upstream fields stay unset, so
// callers can tell "empty" from "none".
func (c *userConverter) toProto(u *upstream.User) *directoryv1.CompanyUser {
	out := &directoryv1.CompanyUser{
		Vendor:                    namedRef(u.Vendor),
		PermissionTemplate:        namedRef(u.PermissionTemplate),
		CompanyPermissionTemplate: namedRef(u.CompanyPermissionTemplate),
		LastLoginAt:               timestamp(u.LastLoginAt),
		WelcomeEmailSentAt:        timestamp(u.WelcomeEmailSentAt),
		CreatedAt:                 timestamp(u.CreatedAt),
		UpdatedAt:                 timestamp(u.UpdatedAt),
	}
	m := out.ProtoReflect()
	for _, p := range c.scalars {
		v := p.from.Value(u)
		switch v.Kind() {
		case upstream.KindString:
			m.Set(p.to, protoreflect.ValueOfString(v.Str()))
		case upstream.KindInt:
			m.Set(p.to, protoreflect.ValueOfInt64(v.Int()))
		case upstream.KindBool:
			m.Set(p.to, protoreflect.ValueOfBool(v.Bool()))
		}
	}
	return out
}

func namedRef(r *upstream.NamedRef) *directoryv1.NamedReference {
	if r == nil {
		return nil
	}
	return &directoryv1.NamedReference{Id: r.ID, Name: r.Name}
}

func timestamp(t *time.Time) *timestamppb.Timestamp {
	if t == nil {
		return nil
	}
	return timestamppb.New(*t)
}
