package main

import (
	"fmt"
	"strings"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// userMessage is the resource both routes carry.
const userMessage protoreflect.FullName = "procore.directory.v1.CompanyUser"

// api is what the documents need from the proto: the user message, read
// from the descriptor set so that the Procore schemas follow the proto.
type api struct {
	user protoreflect.MessageDescriptor
}

// loadAPI parses a FileDescriptorSet (with source comments). Linking the
// google.api annotations package lets proto.Unmarshal decode field_behavior.
func loadAPI(set []byte) (*api, error) {
	var fds descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(set, &fds); err != nil {
		return nil, fmt.Errorf("descriptor set: %w", err)
	}
	files, err := protodesc.NewFiles(&fds)
	if err != nil {
		return nil, fmt.Errorf("descriptor set: %w", err)
	}
	d, err := files.FindDescriptorByName(userMessage)
	if err != nil {
		return nil, fmt.Errorf("descriptor set: %s: %w", userMessage, err)
	}
	md, ok := d.(protoreflect.MessageDescriptor)
	if !ok {
		return nil, fmt.Errorf("descriptor set: %s is not a message", userMessage)
	}
	return &api{user: md}, nil
}

// outputOnly reports whether the field is OUTPUT_ONLY (AIP-203): Procore
// computes it, and an update ignores it.
func outputOnly(fd protoreflect.FieldDescriptor) bool {
	opts, ok := fd.Options().(*descriptorpb.FieldOptions)
	if !ok || opts == nil {
		return false
	}
	behaviors, _ := proto.GetExtension(opts, annotations.E_FieldBehavior).([]annotations.FieldBehavior)
	for _, b := range behaviors {
		if b == annotations.FieldBehavior_OUTPUT_ONLY {
			return true
		}
	}
	return false
}

// comment is the leading comment of a declaration, as the document's
// description.
func comment(d protoreflect.Descriptor) string {
	loc := d.ParentFile().SourceLocations().ByDescriptor(d)
	lines := strings.Split(strings.TrimSpace(loc.LeadingComments), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, " ")
	}
	return strings.Join(lines, "\n")
}

// procoreSchemaName names the Procore-JSON schema of a message.
func procoreSchemaName(md protoreflect.MessageDescriptor) string {
	return "Procore" + string(md.Name())
}

// procoreSchemas returns the schemas of md and the messages it contains as
// service/gateway/procore_render.go renders them: every field under its proto name,
// null when unset if it has presence or is a message, int64 as a JSON
// number, timestamps as RFC 3339 strings, nested messages as objects. The
// nullable marker is Swagger 2.0's x-nullable (OpenAPI 3: nullable).
func procoreSchemas(md protoreflect.MessageDescriptor, into object) error {
	name := procoreSchemaName(md)
	if _, done := into[name]; done {
		return nil
	}
	props := object{}
	var required list
	schema := object{"type": "object", "description": comment(md), "properties": props}
	into[name] = schema
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		p, err := fieldSchema(fd, into)
		if err != nil {
			return err
		}
		p["description"] = comment(fd)
		if outputOnly(fd) {
			p["readOnly"] = true
		}
		if fd.HasPresence() || fd.Kind() == protoreflect.MessageKind {
			p["x-nullable"] = true
		}
		props[string(fd.Name())] = p
		required = append(required, string(fd.Name())) // always present, possibly null
	}
	schema["required"] = required
	return nil
}

// fieldSchema is the JSON schema of one field's value in Procore's JSON.
func fieldSchema(fd protoreflect.FieldDescriptor, into object) (object, error) {
	if fd.IsList() || fd.IsMap() {
		return nil, fmt.Errorf("field %s: repeated fields have no Procore JSON rendering yet; teach fieldSchema and service/gateway/procore_render.go", fd.FullName())
	}
	switch fd.Kind() {
	case protoreflect.StringKind:
		return object{"type": "string"}, nil
	case protoreflect.Int64Kind:
		return object{"type": "integer", "format": "int64"}, nil
	case protoreflect.BoolKind:
		return object{"type": "boolean"}, nil
	case protoreflect.MessageKind:
		if fd.Message().FullName() == (&timestamppb.Timestamp{}).ProtoReflect().Descriptor().FullName() {
			return object{"type": "string", "format": "date-time"}, nil
		}
		if err := procoreSchemas(fd.Message(), into); err != nil {
			return nil, err
		}
		return object{"$ref": "#/definitions/" + procoreSchemaName(fd.Message())}, nil
	default:
		return nil, fmt.Errorf("field %s: kind %s has no Procore JSON rendering yet; teach fieldSchema and service/gateway/procore_render.go", fd.FullName(), fd.Kind())
	}
}

// writableFields are the fields an update can set: the user's fields that
// are not OUTPUT_ONLY, in proto order.
func (a *api) writableFields() []protoreflect.FieldDescriptor {
	var out []protoreflect.FieldDescriptor
	fields := a.user.Fields()
	for i := range fields.Len() {
		if fd := fields.Get(i); !outputOnly(fd) {
			out = append(out, fd)
		}
	}
	return out
}
