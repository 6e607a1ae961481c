package upstream

import "strconv"

// ValueKind says which payload a Value carries.
type ValueKind uint8

const (
	// KindNull clears the field: JSON null, or an empty multipart value.
	KindNull ValueKind = iota
	// KindString is a JSON string.
	KindString
	// KindInt is a JSON integer (64 bits: Procore ids exceed 32 bits).
	KindInt
	// KindBool is a JSON boolean.
	KindBool
)

// String names the kind for diagnostics.
func (k ValueKind) String() string {
	switch k {
	case KindNull:
		return "null"
	case KindString:
		return "string"
	case KindInt:
		return "int"
	case KindBool:
		return "bool"
	}
	return "ValueKind(" + strconv.Itoa(int(k)) + ")"
}

// Value is one field's new value in a Patch. It is a small tagged union
// rather than an interface so that a Patch holds no pointers per field and
// encodes without reflection.
type Value struct {
	kind ValueKind
	s    string
	i    int64
	b    bool
}

// StringValue is a value that sets a string field.
func StringValue(v string) Value { return Value{kind: KindString, s: v} }

// IntValue is a value that sets an integer field.
func IntValue(v int64) Value { return Value{kind: KindInt, i: v} }

// BoolValue is a value that sets a boolean field.
func BoolValue(v bool) Value { return Value{kind: KindBool, b: v} }

// NullValue is the value that clears a field.
func NullValue() Value { return Value{} }

// Kind reports which payload v carries.
func (v Value) Kind() ValueKind { return v.kind }

// Str returns the string payload ("" unless Kind is KindString).
func (v Value) Str() string { return v.s }

// Int returns the integer payload (0 unless Kind is KindInt).
func (v Value) Int() int64 { return v.i }

// Bool returns the boolean payload (false unless Kind is KindBool).
func (v Value) Bool() bool { return v.b }

// IsNull reports whether v clears its field.
func (v Value) IsNull() bool { return v.kind == KindNull }

// appendJSON appends v as a JSON value.
func (v Value) appendJSON(dst []byte) []byte {
	switch v.kind {
	case KindString:
		return appendJSONString(dst, v.s)
	case KindInt:
		return strconv.AppendInt(dst, v.i, 10)
	case KindBool:
		return strconv.AppendBool(dst, v.b)
	}
	return append(dst, "null"...)
}

// formValue renders v as a multipart form value: decimal integers,
// true/false, and the empty string for a cleared field (the contract's
// form encoding).
func (v Value) formValue() string {
	switch v.kind {
	case KindString:
		return v.s
	case KindInt:
		return strconv.FormatInt(v.i, 10)
	case KindBool:
		return strconv.FormatBool(v.b)
	}
	return ""
}
