package server_test

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/service/apierr"
	"github.com/procore-directory/procore-directory/service/gateway"
	"github.com/procore-directory/procore-directory/upstream/procoretest"
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

// TestProcoreRoutePassesProcoreErrorsThrough: through the real stack, an
// error Procore answers reaches a Procore-compatible caller, JSON or
// multipart, with Procore's status and body — the e-mail address Procore
// echoed redacted, as in every message — and the service's reason and
// a request id in headers; /v1 answers the same in google.rpc.Status,
// with Procore's redacted body in ErrorInfo's upstream_body.
func TestProcoreRoutePassesProcoreErrorsThrough(t *testing.T) {
	const (
		echoed   = `{"errors":{"email_address":["maria.okafor@summitridge.example has already been taken"],"city":["is too long"]}}`
		redacted = `{"errors":{"email_address":["[email] has already been taken"],"city":["is too long"]}}`
		path     = "/rest/v1.3/companies/8089/users/1001"
	)
	s := startStack(t, withoutRateLimits(), withRequired(service.RequiredFieldsMaskedOnly), withEmulator(procoretest.WithPartialBodies(true)))
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	_ = mw.WriteField("user[city]", "Salem")
	_ = mw.Close()
	for _, tt := range []struct{ name, contentType, body string }{
		{"json", "application/json", `{"user":{"city":"Salem"}}`},
		{"multipart", mw.FormDataContentType(), form.String()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s.emu.Script(procoretest.FaultStatus(422, "application/json", echoed, nil))
			req, _ := http.NewRequest(http.MethodPatch, s.rest.URL+path, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", tt.contentType)
			resp, err := s.rest.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 422 || string(got) != redacted {
				t.Errorf("HTTP %d %s, want 422 %s", resp.StatusCode, got, redacted)
			}
			if r := resp.Header.Get(gateway.ErrorReasonHeader); r != apierr.ReasonUpstreamValidation {
				t.Errorf("reason %q", r)
			}
			if resp.Header.Get("X-Request-Id") == "" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				t.Errorf("headers %v", resp.Header)
			}
		})
	}
	s.emu.Script(procoretest.FaultStatus(422, "application/json", echoed, nil))
	code, _, body := s.doJSON(t, http.MethodPatch, "/v1/companies/8089/users/1001", `{"city":"Salem"}`)
	info := statusDetails(t, body)["ErrorInfo"]
	meta, _ := info["metadata"].(map[string]any)
	if code != http.StatusBadRequest || info["reason"] != apierr.ReasonUpstreamValidation || meta[apierr.MetaUpstreamBody] != redacted {
		t.Errorf("/v1: HTTP %d %v, want 400 UPSTREAM_VALIDATION_FAILED with upstream_body %s", code, body, redacted)
	}
}
