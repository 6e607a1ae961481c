package gateway

import (
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
)

// procoreMarshaler is the Procore-compatible route's outbound marshaler:
// the mux's own, except that a user is rendered as Procore renders it
// (procoreJSON: numbers and nulls; protojson writes int64 as strings and
// leaves unset fields out). Errors do not pass through it: the mux's error
// handler writes them in Procore's shapes (procore_errors.go).
// The route passes it to runtime.ForwardResponseMessage, so headers,
// trailers and the content type are handled as on every route.
type procoreMarshaler struct {
	runtime.Marshaler
}

// Marshal implements runtime.Marshaler.
func (m procoreMarshaler) Marshal(v any) ([]byte, error) {
	if user, ok := v.(*directoryv1.CompanyUser); ok {
		return m.Marshaler.Marshal(procoreJSON(user.ProtoReflect()))
	}
	return m.Marshaler.Marshal(v)
}

// procoreJSON renders a message the way Procore's JSON does: every field
// under its proto (snake_case) name, null where unset, int64 as a JSON
// number, timestamps as RFC 3339 strings, nested messages as objects.
// scripts/openapi documents this rendering (procoreSchemas); the two
// change together.
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
