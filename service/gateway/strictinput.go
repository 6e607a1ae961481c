package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"

	"github.com/procore-directory/procore-directory/service/apierr"
)

// Strict input: what a route does not understand is refused, naming what
// was wrong, rather than dropped or rewritten. A misspelt `?update_maks=`
// silently ignored turns a one-field update into an update of every field
// in the body; a second "user" key where the last one wins writes what the
// caller may not have meant; invalid UTF-8 turned into U+FFFD writes
// something nobody sent. Each such request gets INVALID_ARGUMENT (415 for a
// body that is not JSON where JSON is expected) and nothing is called.

// queryParams are the query parameters each API route understands, by
// method (the same on /v1 and on the Procore-compatible route). avatar.* are
// refused separately (avatarQueryViolations), with their own reason.
func queryParams(r *http.Request) []string {
	switch {
	case r.Method == http.MethodPatch:
		return []string{"update_mask", "run_configurable_validations", "request_id", "validate_only"}
	case r.Method == http.MethodGet && r.URL.Path == "/v1/operations": // ListOperations
		return []string{"filter", "page_size", "page_token", "return_partial_success"}
	case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/auditEvents"): // ListAuditEvents
		return []string{"filter", "page_size", "page_token"}
	}
	return nil // GET: the path names the resource; POST: the body says it all
}

// queryViolations names each query parameter the route does not know, each
// one given twice, and each that is not UTF-8.
func queryViolations(r *http.Request, known []string) []*errdetails.BadRequest_FieldViolation {
	var out []*errdetails.BadRequest_FieldViolation
	q, err := parseQueryStrict(r.URL.RawQuery)
	if err != nil {
		return []*errdetails.BadRequest_FieldViolation{{Field: "query", Description: "the query string is malformed: " + err.Error(), Reason: "MALFORMED_QUERY"}}
	}
	for _, key := range slices.Sorted(maps.Keys(q)) {
		if first, _, _ := strings.Cut(key, "."); first == "avatar" {
			continue // avatarQueryViolations
		}
		switch values := q[key]; {
		case !utf8.ValidString(key) || !allValidUTF8(values):
			out = append(out, &errdetails.BadRequest_FieldViolation{Field: printableName(key), Description: "query parameter is not valid UTF-8", Reason: "INVALID_UTF8"})
		case !slices.Contains(known, key):
			desc := fmt.Sprintf("unknown query parameter %q", key)
			if len(known) > 0 {
				desc += "; this route takes " + strings.Join(known, ", ")
			} else {
				desc += "; this route takes none"
			}
			out = append(out, &errdetails.BadRequest_FieldViolation{Field: key, Description: desc, Reason: "UNKNOWN_QUERY_PARAMETER"})
		case len(values) > 1:
			out = append(out, &errdetails.BadRequest_FieldViolation{Field: key, Description: fmt.Sprintf("query parameter %q is given %d times; give it once", key, len(values)), Reason: "DUPLICATE_QUERY_PARAMETER"})
		}
	}
	return out
}

// parseQueryStrict is url.ParseQuery without its tolerance of semicolons
// and bad escapes going unreported.
func parseQueryStrict(raw string) (map[string][]string, error) {
	out := map[string][]string{}
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		if kv == "" {
			continue
		}
		if strings.Contains(kv, ";") {
			return nil, errors.New("';' is not a separator")
		}
		k, v, _ := strings.Cut(kv, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return nil, err
		}
		value, err := url.QueryUnescape(v)
		if err != nil {
			return nil, err
		}
		out[key] = append(out[key], value)
	}
	return out, nil
}

func allValidUTF8(values []string) bool {
	for _, v := range values {
		if !utf8.ValidString(v) {
			return false
		}
	}
	return true
}

// printableName is a parameter name fit for a message: invalid bytes as
// U+FFFD (the name is the caller's own, and is not personal data).
func printableName(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

// mediaTypeError is the 415 of a body in a media type the route does not
// take; allowed lists those it does.
func mediaTypeError(r *http.Request, allowed ...string) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil // no Content-Type: the body is read as JSON
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err == nil && slices.Contains(allowed, mt) {
		if cs, ok := params["charset"]; !ok || strings.EqualFold(cs, "utf-8") {
			return nil
		}
	}
	return &runtime.HTTPStatusError{HTTPStatus: http.StatusUnsupportedMediaType, Err: apierr.InvalidArgument([]*errdetails.BadRequest_FieldViolation{{
		Field:       "Content-Type",
		Description: fmt.Sprintf("content type %q is not accepted here: send %s (UTF-8)", printableName(ct), strings.Join(allowed, " or ")),
		Reason:      "UNSUPPORTED_MEDIA_TYPE",
	}})}
}

// checkJSONBody reads r's body, checks it is one JSON value with no
// duplicate object keys at any level and only valid UTF-8 (jsontext's
// defaults, which encoding/json does not have), and puts the bytes back
// for the handler. prefix names the request field the body's root is
// ("user" on /v1; the Procore route, whose body is {"user": ...}, asks
// jsonViolation with none).
func checkJSONBody(r *http.Request, prefix string) []*errdetails.BadRequest_FieldViolation {
	body, err := io.ReadAll(r.Body)
	_ = r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return []*errdetails.BadRequest_FieldViolation{{Field: "body", Description: "request body could not be read: " + err.Error(), Reason: "UNREADABLE_BODY"}}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil // no body: the handlers say what they make of it
	}
	v := jsonViolation(body, prefix)
	if v == nil {
		return nil
	}
	return []*errdetails.BadRequest_FieldViolation{v}
}

// jsonViolation is checkJSONBody's verdict on body.
func jsonViolation(body []byte, prefix string) *errdetails.BadRequest_FieldViolation {
	dec := jsontext.NewDecoder(bytes.NewReader(body))
	_, err := dec.ReadValue()
	if err == nil {
		if _, err = dec.ReadToken(); errors.Is(err, io.EOF) {
			return nil
		}
		return &errdetails.BadRequest_FieldViolation{Field: "body", Description: "request body is more than one JSON value", Reason: "MALFORMED_JSON"}
	}
	var se *jsontext.SyntacticError
	if !errors.As(err, &se) {
		return &errdetails.BadRequest_FieldViolation{Field: "body", Description: "request body is not one well-formed JSON value", Reason: "MALFORMED_JSON"}
	}
	field := pointerField(prefix, se.JSONPointer)
	switch {
	case errors.Is(se.Err, jsontext.ErrDuplicateName):
		return &errdetails.BadRequest_FieldViolation{Field: field, Description: field + " is given twice: each key may appear once", Reason: "DUPLICATE_KEY"}
	case !utf8.Valid(body):
		return &errdetails.BadRequest_FieldViolation{Field: field, Description: "request body is not valid UTF-8", Reason: "INVALID_UTF8"}
	default:
		// The decoder's message names positions, not values.
		return &errdetails.BadRequest_FieldViolation{Field: "body", Description: "request body is not one well-formed JSON value: " + se.Err.Error(), Reason: "MALFORMED_JSON"}
	}
}

// pointerField turns a JSON pointer ("/user/job_title") into a request
// field path ("user.job_title"), under prefix.
func pointerField(prefix string, ptr jsontext.Pointer) string {
	parts := []string{}
	if prefix != "" {
		parts = append(parts, prefix)
	}
	for tok := range ptr.Tokens() {
		parts = append(parts, printableName(tok))
	}
	if len(parts) == 0 {
		return "body"
	}
	return strings.Join(parts, ".")
}
