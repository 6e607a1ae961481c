package server_test

import (
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/procore-directory/procore-directory/service/gateway"
)

// procoreRoute matches the Procore-compatible route's URLs, whose errors
// are in Procore's shapes rather than google.rpc.Status.
var procoreRoute = regexp.MustCompile(`^/rest/v1\.3/companies/[^/?]+/users/[^/?]+(\?|$)`)

// procoreErr is an error answer of the Procore-compatible route, read the
// way a test compares it with the other faces' google.rpc.Status: the
// reason from gateway.ErrorReasonHeader, the message, and the fields it names
// (a 422's or 400's {"errors": {field: [...]}} keys, a flat body's
// "fields", or the field of the gateway's "invalid <field>: ..." message),
// each as its request field (user.<field>, or the parameter's name).
type procoreErr struct {
	reason, message string
	fields          []string
}

// readProcoreError reads a Procore-compatible error answer; body is the
// decoded JSON (nil for a body that is not JSON, which Procore may send).
func readProcoreError(t *testing.T, hdr http.Header, body map[string]any) procoreErr {
	t.Helper()
	out := procoreErr{reason: hdr.Get(gateway.ErrorReasonHeader)}
	if out.reason == "" {
		t.Errorf("error answer without %s", gateway.ErrorReasonHeader)
	}
	if hdr.Get("X-Request-Id") == "" {
		t.Error("error answer without X-Request-Id")
	}
	switch errs := body["errors"].(type) {
	case map[string]any:
		var parts []string
		for f, msgs := range errs {
			out.fields = append(out.fields, "user."+f)
			for _, m := range msgs.([]any) {
				parts = append(parts, f+" "+fmt.Sprint(m))
			}
		}
		sort.Strings(out.fields)
		sort.Strings(parts)
		out.message = strings.Join(parts, "; ")
	case string:
		out.message = errs
		if rest, ok := strings.CutPrefix(errs, "invalid "); ok {
			field, _, _ := strings.Cut(rest, ":")
			out.fields = append(out.fields, field)
		}
	}
	if msg, ok := body["message"].(string); ok { // Procore's flat body
		out.message = msg
	}
	if fs, ok := body["fields"].(string); ok && fs != "" {
		for _, f := range strings.Split(fs, ",") {
			out.fields = append(out.fields, "user."+strings.TrimSpace(f))
		}
	}
	if desc, ok := body["error_description"].(string); ok {
		out.message = desc
	}
	return out
}

// procoreCode is the gRPC code of the same meaning as a Procore-compatible
// error status, for tests that hold every face to one expectation.
func procoreCode(httpStatus int) codes.Code {
	switch httpStatus {
	case http.StatusOK:
		return codes.OK
	case http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusUnsupportedMediaType:
		return codes.InvalidArgument
	case http.StatusUnauthorized:
		return codes.Unauthenticated
	case http.StatusForbidden:
		return codes.PermissionDenied
	case http.StatusNotFound:
		return codes.NotFound
	case http.StatusConflict:
		return codes.Aborted
	case http.StatusTooManyRequests:
		return codes.ResourceExhausted
	case http.StatusServiceUnavailable:
		return codes.Unavailable
	case http.StatusGatewayTimeout:
		return codes.DeadlineExceeded
	case http.StatusMethodNotAllowed:
		return codes.Unimplemented
	}
	return codes.Internal
}

// asStatus is an error answer as the google.rpc.Status JSON statusDetails
// reads: unchanged off the Procore-compatible route; on it, Procore's body
// read by readProcoreError into an ErrorInfo and a BadRequest.
func asStatus(t *testing.T, path string, hdr http.Header, body map[string]any) map[string]any {
	t.Helper()
	if !procoreRoute.MatchString(path) {
		return body
	}
	pe := readProcoreError(t, hdr, body)
	details := []any{map[string]any{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": pe.reason}}
	if len(pe.fields) > 0 {
		var vs []any
		for _, f := range pe.fields {
			vs = append(vs, map[string]any{"field": f})
		}
		details = append(details, map[string]any{"@type": "type.googleapis.com/google.rpc.BadRequest", "field_violations": vs})
	}
	return map[string]any{"message": pe.message, "details": details}
}
