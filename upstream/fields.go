package upstream

import (
	"reflect"
	"strings"
)

// Field is one scalar member of Procore's user: its JSON name, the JSON
// type its value has, and what an update may do with it. The table of
// fields is derived from jsonUser's struct tags, the one place the member
// names are written, so the decoder, the patch validation, the service's
// conversion and the emulator cannot disagree on a name or a type.
type Field struct {
	// Name is the JSON member name, which the proto field shares.
	Name string
	// Kind is the JSON type of the value (KindString, KindInt or KindBool).
	Kind ValueKind
	// Writable fields are the body fields Procore's update accepts.
	Writable bool
	// AdminOnly fields may be changed only by a Directory Admin.
	AdminOnly bool
	// Required fields are required by Procore in every update
	// (last_name, email_address).
	Required bool
	// Syncable fields are the writable fields an item of Procore's sync
	// (users/sync) may carry: all but add_to_new_projects, which the
	// sync's schema lacks, so an update setting it needs the single PATCH.
	Syncable bool

	index int // of the User field holding the value
}

// GoValue is the field of u that holds f (a pointer, or an int64 for id),
// for conversions that copy it as it is: the service's conversion to the
// API's message shares the pointers, as a hand-written one would, instead
// of boxing each value.
func (f Field) GoValue(u *User) reflect.Value {
	return reflect.ValueOf(u).Elem().Field(f.index)
}

// Value returns u's value of f, NullValue when u has none.
func (f Field) Value(u *User) Value {
	v := reflect.ValueOf(u).Elem().Field(f.index)
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return NullValue()
		}
		v = v.Elem()
	}
	switch f.Kind {
	case KindString:
		return StringValue(v.String())
	case KindInt:
		return IntValue(v.Int())
	case KindBool:
		return BoolValue(v.Bool())
	}
	return NullValue()
}

// Fields returns the scalar members of a user (id, name, avatar, the 26
// writable fields and the read-only members of Procore's published answer,
// contact_id to verified_employee; not the embedded objects or the
// timestamps), in the order of jsonUser. It reflects over the struct tags on
// every call: callers that need it often keep the result.
func Fields() []Field {
	wire, user := reflect.TypeFor[jsonUser](), reflect.TypeFor[User]()
	fields := make([]Field, 0, wire.NumField())
	for i := range wire.NumField() {
		sf := wire.Field(i)
		kind, ok := fieldKind(sf.Type)
		if !ok {
			continue
		}
		uf, ok := user.FieldByName(sf.Name)
		if !ok {
			panic("upstream: jsonUser." + sf.Name + " has no User field") // caught by the tests
		}
		f := Field{Name: sf.Tag.Get("json"), Kind: kind, index: uf.Index[0]}
		noSync := false
		for flag := range strings.SplitSeq(sf.Tag.Get("procore"), ",") {
			switch flag {
			case "writable":
				f.Writable = true
			case "nosync":
				noSync = true
			case "admin":
				f.AdminOnly = true
			case "required":
				f.Required = true
			}
		}
		f.Syncable = f.Writable && !noSync
		fields = append(fields, f)
	}
	return fields
}

// fieldKind maps a jsonUser field type to its JSON type; ok is false for
// the members that are not scalars.
func fieldKind(t reflect.Type) (ValueKind, bool) {
	switch t {
	case reflect.TypeFor[*string](), reflect.TypeFor[flexibleText]():
		return KindString, true
	case reflect.TypeFor[flexibleInt]():
		return KindInt, true
	case reflect.TypeFor[*bool]():
		return KindBool, true
	}
	return 0, false
}

// WritableFields returns the names of the 26 body fields Procore's update
// accepts, in the order of the endpoint's description. A Patch naming any
// other field is refused by UpdateCompanyUser before anything is sent, so
// a typo never reaches Procore (which would silently ignore it).
func WritableFields() []string {
	var names []string
	for _, f := range Fields() {
		if f.Writable {
			names = append(names, f.Name)
		}
	}
	return names
}

// syncableFields is the set of fields a sync item may carry (see
// Field.Syncable); a Client builds it once.
func syncableFields() map[string]bool {
	set := make(map[string]bool, 26)
	for _, f := range Fields() {
		if f.Syncable {
			set[f.Name] = true
		}
	}
	return set
}

// writableKinds maps each writable field to its JSON type, for
// Patch.validate; a Client builds it once.
func writableKinds() map[string]ValueKind {
	kinds := make(map[string]ValueKind, 26)
	for _, f := range Fields() {
		if f.Writable {
			kinds[f.Name] = f.Kind
		}
	}
	return kinds
}
