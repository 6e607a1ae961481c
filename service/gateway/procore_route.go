package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service/apierr"
)

// procoreUpdate serves `PATCH /rest/v1.3/companies/{company_id}/users/{id}`
// exactly as Procore accepts it, so a caller of Procore only changes its base
// URL: a JSON body `{"user": {...}}` or a multipart/form-data body of
// `user[<field>]` fields and a `user[avatar]` file, and the query parameters
// `run_configurable_validations` and (ours) `update_mask`, `request_id` and
// `validate_only`.
//
// The proto binds this route with `body: "*"`, for which grpc-gateway's
// generated handler neither reads the query nor infers a mask, so this
// handler decodes the request itself and then calls the service through the
// same channel as every other route: nothing is bypassed. Without
// ?update_mask the mask is the fields the body names, as on the /v1 route;
// a field sent as JSON null (or an empty form value) is cleared, as in Procore.
func procoreUpdate(mux *runtime.ServeMux, client directoryv1.DirectoryServiceClient) runtime.HandlerFunc {
	const method = "/procore.directory.v1.DirectoryService/UpdateCompanyUser"
	return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
		serveProcore(mux, w, r, method, func(ctx context.Context, opts ...grpc.CallOption) (proto.Message, error) {
			req, violations := decodeProcoreUpdate(r, params)
			if len(violations) > 0 {
				return nil, apierr.InvalidArgument(violations)
			}
			return client.UpdateCompanyUser(ctx, req, opts...)
		})
	}
}

// decodeProcoreUpdate builds the UpdateCompanyUserRequest of a Procore-shaped
// HTTP request, or says everything wrong with it.
func decodeProcoreUpdate(r *http.Request, params map[string]string) (*directoryv1.UpdateCompanyUserRequest, []*errdetails.BadRequest_FieldViolation) {
	var violations []*errdetails.BadRequest_FieldViolation
	bad := func(field, reason, format string, args ...any) {
		violations = append(violations, &errdetails.BadRequest_FieldViolation{Field: field, Description: fmt.Sprintf(format, args...), Reason: reason})
	}
	req := &directoryv1.UpdateCompanyUserRequest{}
	violations = append(violations, pathParamViolations(params)...) // already refused by requestChecks; kept for direct callers
	req.CompanyId, req.Id = parsePathIDs(params)
	q := r.URL.Query()
	if v, ok := q["run_configurable_validations"]; ok {
		b, err := strconv.ParseBool(v[len(v)-1])
		if err != nil {
			bad("run_configurable_validations", "INVALID_QUERY_PARAMETER", "run_configurable_validations must be true or false")
		}
		req.RunConfigurableValidations = &b
	}
	var inferred []string
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mediaType {
	case "multipart/form-data":
		inferred = decodeProcoreForm(r, req, bad)
	case "application/json", "":
		inferred = decodeProcoreJSON(r, req, bad)
	default: // refused with 415 by requestChecks; kept for direct callers
		bad("Content-Type", "UNSUPPORTED_MEDIA_TYPE", "content type %q: send application/json or multipart/form-data", printableName(mediaType))
	}
	if v, ok := q["validate_only"]; ok {
		b, err := strconv.ParseBool(v[len(v)-1])
		if err != nil {
			bad("validate_only", "INVALID_QUERY_PARAMETER", "validate_only must be true or false")
		}
		req.ValidateOnly = b
	}
	if v, ok := q["request_id"]; ok { // or the Idempotency-Key header (idempotencyKey)
		req.RequestId = v[len(v)-1]
	}
	if v, ok := q["update_mask"]; ok {
		req.UpdateMask = &fieldmaskpb.FieldMask{Paths: strings.Split(v[len(v)-1], ",")}
	} else {
		req.UpdateMask = &fieldmaskpb.FieldMask{Paths: inferred}
	}
	return req, violations
}

// decodeProcoreJSON reads `{"user": {...}}` and returns the field names it
// carries (null ones included: they are to be cleared).
func decodeProcoreJSON(r *http.Request, req *directoryv1.UpdateCompanyUserRequest, bad func(field, reason, format string, args ...any)) []string {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		bad("body", "UNREADABLE_BODY", "request body could not be read: %v", err)
		return nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		bad("body", "MALFORMED_JSON", "request body is not a JSON object: %v", err)
		return nil
	}
	for key := range top {
		if key != "user" {
			bad(key, "UNKNOWN_FIELD", "unknown top-level field %q: Procore's body is {\"user\": {...}}", key)
		}
	}
	raw, ok := top["user"]
	if !ok {
		bad("user", "REQUIRED", "user is required: the body is {\"user\": {...}}")
		return nil
	}
	req.User = &directoryv1.CompanyUser{}
	if err := protojson.Unmarshal(raw, req.User); err != nil {
		bad("user", "INVALID_USER", "user: %v", err)
		return nil
	}
	fm, err := runtime.FieldMaskFromRequestBody(bytes.NewReader(raw), req.User)
	if err != nil {
		bad("user", "INVALID_USER", "user: %v", err)
		return nil
	}
	return fm.GetPaths()
}

// decodeProcoreForm reads Procore's multipart body: `user[<field>]` values
// (booleans true/false, integers in decimal, an empty value clears) and the
// `user[avatar]` file.
func decodeProcoreForm(r *http.Request, req *directoryv1.UpdateCompanyUserRequest, bad func(field, reason, format string, args ...any)) []string {
	if err := r.ParseMultipartForm(DefaultMaxBodyBytes); err != nil {
		bad("body", "MALFORMED_FORM", "multipart body could not be read: %v", err)
		return nil
	}
	req.User = &directoryv1.CompanyUser{}
	m := req.User.ProtoReflect()
	fields := m.Descriptor().Fields()
	var names []string
	for key, values := range r.MultipartForm.Value {
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
	for key, files := range r.MultipartForm.File {
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
		f, err := files[0].Open()
		if err != nil {
			bad("avatar.content", "UNREADABLE_FILE", "avatar could not be read: %v", err)
			continue
		}
		content, err := io.ReadAll(f)
		_ = f.Close()
		if err != nil {
			bad("avatar.content", "UNREADABLE_FILE", "avatar could not be read: %v", err)
			continue
		}
		req.Avatar = &directoryv1.AvatarUpload{
			Content:     content,
			FileName:    files[0].Filename,
			ContentType: files[0].Header.Get("Content-Type"),
		}
	}
	return names
}
