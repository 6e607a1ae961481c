package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service/apierr"
)

// decodeProcoreUpdate builds the UpdateCompanyUserRequest of a Procore
// PATCH: a JSON body `{"user": {...}}` or a multipart/form-data body of
// `user[<field>]` fields and a `user[avatar]` file, and the query
// parameters `run_configurable_validations` and (ours) `update_mask`,
// `request_id` (or the Idempotency-Key header, see idempotencyKey) and
// `validate_only`. requestChecks has already refused bad path and query
// parameters; the body is this route's own to check.
//
// The body is read once and parsed once: a JSON body in one jsontext pass
// that holds it to strict input's rules (one value, no duplicate keys,
// valid UTF-8; the first break is the only error reported, as on /v1),
// finds the user object and the fields it names; protojson then decodes
// the user object's bytes. Without ?update_mask the mask is the fields the
// body names, as on the /v1 route (a field sent as JSON null, or an empty
// form value, is cleared, as in Procore).
//
// The error is a 415 for a media type Procore does not take, or
// INVALID_ARGUMENT naming everything wrong.
func decodeProcoreUpdate(r *http.Request, params map[string]string) (*directoryv1.UpdateCompanyUserRequest, error) {
	if err := mediaTypeError(r, "application/json", "multipart/form-data"); err != nil { // Procore's two bodies
		return nil, err
	}
	req := &directoryv1.UpdateCompanyUserRequest{}
	req.CompanyId, req.Id = parsePathIDs(params)
	var violations []*errdetails.BadRequest_FieldViolation
	bad := func(field, reason, format string, args ...any) {
		violations = append(violations, &errdetails.BadRequest_FieldViolation{Field: field, Description: fmt.Sprintf(format, args...), Reason: reason})
	}
	decodeBody := decodeProcoreJSON
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		decodeBody = decodeProcoreForm
	}
	q := r.URL.Query()
	if v, ok := q["run_configurable_validations"]; ok {
		b, err := strconv.ParseBool(v[len(v)-1])
		if err != nil {
			bad("run_configurable_validations", "INVALID_QUERY_PARAMETER", "run_configurable_validations must be true or false")
		}
		req.RunConfigurableValidations = &b
	}
	named, err := decodeBody(r, req, bad)
	if err != nil {
		return nil, err
	}
	if v, ok := q["validate_only"]; ok {
		b, err := strconv.ParseBool(v[len(v)-1])
		if err != nil {
			bad("validate_only", "INVALID_QUERY_PARAMETER", "validate_only must be true or false")
		}
		req.ValidateOnly = b
	}
	if v, ok := q["request_id"]; ok {
		req.RequestId = v[len(v)-1]
	}
	req.UpdateMask = &fieldmaskpb.FieldMask{Paths: named}
	if v, ok := q["update_mask"]; ok {
		req.UpdateMask = &fieldmaskpb.FieldMask{Paths: strings.Split(v[len(v)-1], ",")}
	}
	if len(violations) > 0 {
		return nil, apierr.InvalidArgument(violations)
	}
	return req, nil
}

// badFunc records one thing wrong with a request: the field, the reason,
// and the description.
type badFunc func(field, reason, format string, args ...any)

// decodeProcoreJSON reads `{"user": {...}}` into req and returns the
// fields the user object names (null ones included: they are to be
// cleared). A body that breaks strict input's rules is the error, alone.
func decodeProcoreJSON(r *http.Request, req *directoryv1.UpdateCompanyUserRequest, bad badFunc) ([]string, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, apierr.InvalidArgument([]*errdetails.BadRequest_FieldViolation{{Field: "body", Description: "request body could not be read: " + err.Error(), Reason: "UNREADABLE_BODY"}})
	}
	parsed, v := scanProcoreJSON(body, req.ProtoReflect().Descriptor().Fields().ByName("user").Message())
	if v != nil {
		return nil, apierr.InvalidArgument([]*errdetails.BadRequest_FieldViolation{v})
	}
	if parsed.kind != jsontext.KindBeginObject && parsed.kind != jsontext.KindNull {
		bad("body", "MALFORMED_JSON", "request body is not a JSON object: Procore's body is {\"user\": {...}}")
		return nil, nil
	}
	for _, key := range parsed.unknown {
		bad(key, "UNKNOWN_FIELD", "unknown top-level field %q: Procore's body is {\"user\": {...}}", key)
	}
	if parsed.user == nil {
		bad("user", "REQUIRED", "user is required: the body is {\"user\": {...}}")
		return nil, nil
	}
	req.User = &directoryv1.CompanyUser{}
	if err := protojson.Unmarshal(parsed.user, req.User); err != nil {
		bad("user", "INVALID_USER", "user: %v", err)
		return nil, nil
	}
	return parsed.named, nil
}

// procoreJSONBody is what one pass over a Procore JSON body finds.
type procoreJSONBody struct {
	kind    jsontext.Kind  // the body's kind; KindInvalid when the body is empty
	unknown []string       // top-level keys other than "user", in body order
	user    jsontext.Value // the "user" value; nil when absent
	named   []string       // the field mask paths the user object names, sorted
}

// scanProcoreJSON reads body in one jsontext pass and finds the top-level
// keys, the "user" value and the fields it names; user is the user
// object's message type. A body that breaks strict input's rules gets
// strict input's verdict (jsonViolation), so that both PATCH routes word
// a broken body alike.
func scanProcoreJSON(body []byte, user protoreflect.MessageDescriptor) (procoreJSONBody, *errdetails.BadRequest_FieldViolation) {
	var out procoreJSONBody
	dec := jsontext.NewDecoder(bytes.NewReader(body))
	out.kind = dec.PeekKind()
	var err error
	switch out.kind {
	case jsontext.KindInvalid: // no body, or not JSON at all
		if _, err = dec.ReadToken(); errors.Is(err, io.EOF) {
			return out, nil
		}
	case jsontext.KindBeginObject:
		err = scanProcoreObject(dec, body, user, &out)
	default:
		err = scanValue(dec, nil, "", nil)
	}
	if err == nil {
		if _, err = dec.ReadToken(); errors.Is(err, io.EOF) {
			slices.Sort(out.named)
			return out, nil
		}
	}
	if v := jsonViolation(body, ""); v != nil {
		return procoreJSONBody{}, v
	}
	return procoreJSONBody{}, &errdetails.BadRequest_FieldViolation{Field: "body", Description: "request body is not one well-formed JSON value", Reason: "MALFORMED_JSON"}
}

// scanProcoreObject reads the body's top-level object into out.
func scanProcoreObject(dec *jsontext.Decoder, body []byte, user protoreflect.MessageDescriptor, out *procoreJSONBody) error {
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	for dec.PeekKind() != jsontext.KindEndObject {
		name, err := dec.ReadToken()
		if err != nil {
			return err
		}
		if key := name.String(); key != "user" {
			out.unknown = append(out.unknown, key)
			if err := scanValue(dec, nil, "", nil); err != nil {
				return err
			}
			continue
		}
		start := dec.InputOffset() // just after the name: the value follows ':'
		if err := scanValue(dec, user, "", &out.named); err != nil {
			return err
		}
		out.user = bytes.TrimLeft(body[start:dec.InputOffset()], " \t\r\n:")
	}
	_, err := dec.ReadToken()
	return err
}

// scanValue reads one JSON value. md is the message type the value
// decodes into (nil for any other value); when paths is not nil it gets
// the field mask paths the value names under path, by
// runtime.FieldMaskFromRequestBody's rule (the /v1 route's): the fields of
// a non-empty object of a message type name their own paths, and any other
// value names path itself. Keys that are no field of md name nothing:
// protojson refuses them.
func scanValue(dec *jsontext.Decoder, md protoreflect.MessageDescriptor, path string, paths *[]string) error {
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	switch tok.Kind() {
	case jsontext.KindBeginObject:
		n := 0
		for ; dec.PeekKind() != jsontext.KindEndObject; n++ {
			name, err := dec.ReadToken()
			if err != nil {
				return err
			}
			fd := fieldNamed(md, name.String())
			if fd == nil || paths == nil {
				if err := scanValue(dec, nil, "", nil); err != nil {
					return err
				}
				continue
			}
			var child protoreflect.MessageDescriptor
			if !fd.IsList() && !fd.IsMap() {
				child = fd.Message()
			}
			if err := scanValue(dec, child, joinPath(path, string(fd.Name())), paths); err != nil {
				return err
			}
		}
		if _, err := dec.ReadToken(); err != nil {
			return err
		}
		if n > 0 && md != nil {
			return nil // the fields named their paths
		}
	case jsontext.KindBeginArray:
		for dec.PeekKind() != jsontext.KindEndArray {
			if err := scanValue(dec, nil, "", nil); err != nil {
				return err
			}
		}
		if _, err := dec.ReadToken(); err != nil {
			return err
		}
	}
	if paths != nil && path != "" {
		*paths = append(*paths, path)
	}
	return nil
}

// fieldNamed is md's field of a JSON key, by proto name or JSON name, as
// protojson reads them; nil when there is none (or no md).
func fieldNamed(md protoreflect.MessageDescriptor, key string) protoreflect.FieldDescriptor {
	if md == nil {
		return nil
	}
	if fd := md.Fields().ByName(protoreflect.Name(key)); fd != nil {
		return fd
	}
	return md.Fields().ByJSONName(key)
}

// joinPath appends a field name to a field mask path.
func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// decodeProcoreForm reads Procore's multipart body into req: `user[<field>]`
// values (booleans true/false, integers in decimal, an empty value clears)
// and the `user[avatar]` file. It returns the fields the body names.
func decodeProcoreForm(r *http.Request, req *directoryv1.UpdateCompanyUserRequest, bad badFunc) ([]string, error) {
	if err := r.ParseMultipartForm(DefaultMaxBodyBytes); err != nil {
		bad("body", "MALFORMED_FORM", "multipart body could not be read: %v", err)
		return nil, nil
	}
	req.User = &directoryv1.CompanyUser{}
	names := decodeFormValues(r.MultipartForm.Value, req.User.ProtoReflect(), bad)
	req.Avatar = decodeFormAvatar(r.MultipartForm, bad)
	return names, nil
}

// decodeFormValues sets m's fields from the `user[<field>]` form values and
// returns their names.
func decodeFormValues(form url.Values, m protoreflect.Message, bad badFunc) []string {
	fields := m.Descriptor().Fields()
	var names []string
	for key, values := range form {
		name, ok := strings.CutPrefix(key, "user[")
		name, ok2 := strings.CutSuffix(name, "]")
		fd := fields.ByName(protoreflect.Name(name))
		if !ok || !ok2 || fd == nil {
			bad(printableName(key), "UNKNOWN_FIELD", "unknown form field %q: fields are named user[<field>]", printableName(key))
			continue
		}
		if len(values) > 1 {
			bad("user."+name, "DUPLICATE_FIELD", "form field %s is given %d times: give it once", key, len(values))
			continue
		}
		v := values[0]
		if !utf8.ValidString(v) {
			bad("user."+name, "INVALID_UTF8", "form field %s is not valid UTF-8", key)
			continue
		}
		names = append(names, name)
		if v == "" {
			continue // empty value: clear, as Procore does
		}
		switch fd.Kind() {
		case protoreflect.StringKind:
			m.Set(fd, protoreflect.ValueOfString(v))
		case protoreflect.Int64Kind:
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				bad("user."+name, "INVALID_FORM_VALUE", "%s must be a decimal integer", name)
				continue
			}
			m.Set(fd, protoreflect.ValueOfInt64(n))
		case protoreflect.BoolKind:
			b, err := strconv.ParseBool(v)
			if err != nil {
				bad("user."+name, "INVALID_FORM_VALUE", "%s must be true or false", name)
				continue
			}
			m.Set(fd, protoreflect.ValueOfBool(b))
		default:
			bad(key, "UNKNOWN_FIELD", "%s cannot be set by a form field", name)
		}
	}
	return names
}

// decodeFormAvatar reads the `user[avatar]` file part, the only file the
// form may carry; nil when there is none.
func decodeFormAvatar(form *multipart.Form, bad badFunc) *directoryv1.AvatarUpload {
	var avatar *directoryv1.AvatarUpload
	for key, files := range form.File {
		if key != "user[avatar]" {
			bad(printableName(key), "UNKNOWN_FILE", "unexpected file part %q: the only file is user[avatar]", printableName(key))
			continue
		}
		if len(files) != 1 {
			bad("avatar.content", "DUPLICATE_FIELD", "file part user[avatar] is given %d times: give it once", len(files))
			continue
		}
		if !utf8.ValidString(files[0].Filename) || !utf8.ValidString(files[0].Header.Get("Content-Type")) {
			bad("avatar.file_name", "INVALID_UTF8", "the user[avatar] part's file name or content type is not valid UTF-8")
			continue
		}
		content, err := readFormFile(files[0])
		if err != nil {
			bad("avatar.content", "UNREADABLE_FILE", "avatar could not be read: %v", err)
			continue
		}
		avatar = &directoryv1.AvatarUpload{
			Content:     content,
			FileName:    files[0].Filename,
			ContentType: files[0].Header.Get("Content-Type"),
		}
	}
	return avatar
}

// readFormFile returns a file part's bytes.
func readFormFile(fh *multipart.FileHeader) ([]byte, error) {
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}
