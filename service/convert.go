package service

import (
	"fmt"
	"reflect"
	"strings"
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
//
// A pair is two Go struct fields of the same type (*string, *int64, *bool
// or int64), copied as they are: the message shares the decoded record's
// pointers, as a hand-written conversion would, where protoreflect's Set
// would box and copy every value (BENCHMARKS.md, "service core").
type userConverter struct {
	scalars []scalarPair
}

// scalarPair is one upstream scalar field and the index of the CompanyUser
// struct field of the same name.
type scalarPair struct {
	from upstream.Field
	to   int
}

// newUserConverter pairs every upstream scalar field with the CompanyUser
// field of the same name. It fails when a field has no counterpart or a
// counterpart of another kind or Go type, so that neither side can gain a
// field the other silently drops.
func newUserConverter() (*userConverter, error) {
	msg := &directoryv1.CompanyUser{}
	desc := msg.ProtoReflect().Descriptor()
	goFields := protoFieldIndex(reflect.TypeFor[directoryv1.CompanyUser]())
	var c userConverter
	for _, f := range upstream.Fields() {
		fd := desc.Fields().ByName(protoreflect.Name(f.Name))
		if fd == nil {
			return nil, fmt.Errorf("service: Procore field %s has no CompanyUser field", f.Name)
		}
		if want := protoKind(f.Kind); fd.Kind() != want || fd.IsList() || fd.IsMap() {
			return nil, fmt.Errorf("service: CompanyUser.%s is a %v, Procore's a %v", f.Name, fd.Kind(), f.Kind)
		}
		i, ok := goFields[f.Name]
		if !ok {
			return nil, fmt.Errorf("service: CompanyUser.%s has no Go field", f.Name)
		}
		from := f.GoValue(&upstream.User{}).Type()
		if to := reflect.ValueOf(msg).Elem().Field(i).Type(); from != to {
			return nil, fmt.Errorf("service: CompanyUser.%s is a Go %v, Procore's a %v", f.Name, to, from)
		}
		c.scalars = append(c.scalars, scalarPair{from: f, to: i})
	}
	return &c, nil
}

// protoFieldIndex maps each proto field name of a generated message struct
// to the index of its Go field, from the struct tags protoc-gen-go writes
// (`protobuf:"bytes,1,opt,name=first_name,..."`).
func protoFieldIndex(t reflect.Type) map[string]int {
	out := map[string]int{}
	for i := range t.NumField() {
		for part := range strings.SplitSeq(t.Field(i).Tag.Get("protobuf"), ",") {
			if name, ok := strings.CutPrefix(part, "name="); ok {
				out[name] = i
			}
		}
	}
	return out
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
	dst := reflect.ValueOf(out).Elem()
	for _, p := range c.scalars {
		dst.Field(p.to).Set(p.from.GoValue(u))
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
