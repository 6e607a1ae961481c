package gateway

import (
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// procoreJSON renders a message the way Procore's JSON does: every field
// under its proto (snake_case) name, null where unset, int64 as a JSON
// number, timestamps as RFC 3339 strings, nested messages as objects.
func procoreJSON(m protoreflect.Message) map[string]any {
	fields := m.Descriptor().Fields()
	out := make(map[string]any, fields.Len())
	for i := range fields.Len() {
		fd := fields.Get(i)
		name := string(fd.Name())
		if !m.Has(fd) && (fd.HasPresence() || fd.Kind() == protoreflect.MessageKind) {
			out[name] = nil
			continue
		}
		v := m.Get(fd)
		switch fd.Kind() {
		case protoreflect.StringKind:
			out[name] = v.String()
		case protoreflect.Int64Kind:
			out[name] = v.Int()
		case protoreflect.BoolKind:
			out[name] = v.Bool()
		case protoreflect.MessageKind:
			if ts, ok := v.Message().Interface().(*timestamppb.Timestamp); ok {
				out[name] = ts.AsTime().UTC().Format(time.RFC3339)
				continue
			}
			out[name] = procoreJSON(v.Message())
		default:
			out[name] = v.Interface()
		}
	}
	return out
}
