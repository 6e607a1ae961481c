package service

import (
	"fmt"
	"reflect"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/procore-directory/procore-directory/upstream"
)

// TestConvertEveryScalarField sets every scalar field of a Procore user to
// a value of its own, converts, and reads each back from the message by
// its proto name; then converts a user with none set and expects every
// field unset (absent upstream stays absent, never an empty value).
func TestConvertEveryScalarField(t *testing.T) {
	conv, err := newUserConverter()
	if err != nil {
		t.Fatal(err)
	}
	fields := upstream.Fields()
	full := &upstream.User{}
	want := map[string]any{}
	for i, f := range fields {
		v := f.GoValue(full)
		var val any
		switch f.Kind {
		case upstream.KindString:
			val = fmt.Sprintf("value-%d", i)
		case upstream.KindInt:
			val = int64(1000 + i)
		case upstream.KindBool:
			val = i%2 == 0
		}
		rv := reflect.ValueOf(val)
		if v.Kind() == reflect.Pointer {
			p := reflect.New(v.Type().Elem())
			p.Elem().Set(rv)
			rv = p
		}
		v.Set(rv)
		want[f.Name] = val
	}
	m := conv.toProto(full).ProtoReflect()
	for _, f := range fields {
		fd := m.Descriptor().Fields().ByName(protoreflect.Name(f.Name))
		if !m.Has(fd) && want[f.Name] != reflect.Zero(reflect.TypeOf(want[f.Name])).Interface() {
			t.Errorf("%s: not set", f.Name)
			continue
		}
		if got := m.Get(fd).Interface(); got != want[f.Name] {
			t.Errorf("%s = %v, want %v", f.Name, got, want[f.Name])
		}
	}
	empty := conv.toProto(&upstream.User{}).ProtoReflect()
	for _, f := range fields {
		fd := empty.Descriptor().Fields().ByName(protoreflect.Name(f.Name))
		if fd.HasPresence() && empty.Has(fd) {
			t.Errorf("%s: set from an absent upstream field", f.Name)
		}
	}
}
