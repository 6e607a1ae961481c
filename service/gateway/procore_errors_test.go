package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/procore-directory/procore-directory/service/apierr"
)

// errorConn is a channel whose every call fails with err, as the service
// would answer it.
type errorConn struct{ err error }

func (c errorConn) Invoke(context.Context, string, any, any, ...grpc.CallOption) error { return c.err }

func (c errorConn) NewStream(context.Context, *grpc.StreamDesc, string, ...grpc.CallOption) (grpc.ClientStream, error) {
	return nil, c.err
}

// Procore's own error bodies (CONTRACT.md), as the service carries them
// in ErrorInfo's upstream_body.
const (
	procore400     = `{"errors":{"last_name":["can't be blank"]}}`
	procore401     = `{"error":"invalid_token","error_description":"The access token is invalid"}`
	procore403     = `{"errors":"You do not have permission to change email_address"}`
	procore403Flat = `{"code":403,"message":"You do not have permission to change email_address","fields":"email_address","reason":"admin_only_field","error":"Forbidden"}`
	procore404     = `{"errors":"Not Found"}`
	procore409     = `{"errors":"Conflict"}`
	procore422     = `{"errors":{"email_address":["is invalid"],"state_code":["is not a subdivision of US"]}}`
	procore429     = `You have surpassed the max number of requests for an hour. Please wait until your limit resets.`
	procore500     = `<html><head><title>We're sorry, but something went wrong (500)</title></head></html>`
	procore502     = `<html><title>502 Bad Gateway</title></html>`
	procore418     = `{"errors":"I'm a teapot"}`
)

// fromProcore is the service's error for an answer Procore gave: the
// reason, Procore's status and (redacted) body in the metadata, and the
// details the core adds.
func fromProcore(code codes.Code, reason string, httpStatus int, body string, details ...*errdetails.BadRequest_FieldViolation) error {
	meta := map[string]string{apierr.MetaUpstreamStatus: strconv.Itoa(httpStatus), "upstream_request_id": "req-procore-1"}
	if body != "" {
		meta[apierr.MetaUpstreamBody] = body
	}
	if len(details) > 0 {
		return apierr.New(code, reason, "update company user: procore update company user: status "+strconv.Itoa(httpStatus), meta, &errdetails.BadRequest{FieldViolations: details})
	}
	return apierr.New(code, reason, "update company user: procore update company user: status "+strconv.Itoa(httpStatus), meta)
}

// Body shapes of the Procore-compatible route's errors.
type bodyShape int

const (
	shapeMessage     bodyShape = iota // {"errors": "<message>"}
	shapeFields                       // {"errors": {"<field>": ["<message>"]}}
	shapeOAuth                        // {"error": "invalid_token", "error_description": "..."}
	shapePassThrough                  // Procore's body, byte for byte
)

// procoreErrorCase is one error the service (or the gateway) can answer on
// the Procore-compatible route, and what a Procore client must see.
type procoreErrorCase struct {
	name   string
	reason string
	err    error // the service's answer; nil: the gateway refuses the request itself
	// request for a gateway-made error (nil: a well-formed PATCH).
	jsonReq, formReq func() *http.Request
	status           int
	shape            bodyShape
	body             string   // shapePassThrough: the exact body
	fields           []string // shapeFields: the keys
	retryAfter       string   // "": none
}

func withRetry(err error, d time.Duration) error {
	st := status.Convert(err)
	st, _ = st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(d)})
	return st.Err()
}

func procoreErrorCases() []procoreErrorCase {
	const path = "/rest/v1.3/companies/8089/users/1001"
	jsonReq := func(target, contentType, body string) func() *http.Request {
		return func() *http.Request {
			r := httptest.NewRequest(http.MethodPatch, target, strings.NewReader(body))
			r.Header.Set("Content-Type", contentType)
			return r
		}
	}
	formReq := func(target string, fields ...string) func() *http.Request {
		return func() *http.Request {
			var b bytes.Buffer
			mw := multipart.NewWriter(&b)
			for i := 0; i+1 < len(fields); i += 2 {
				_ = mw.WriteField(fields[i], fields[i+1])
			}
			_ = mw.Close()
			r := httptest.NewRequest(http.MethodPatch, target, &b)
			r.Header.Set("Content-Type", mw.FormDataContentType())
			return r
		}
	}
	method := func(m string) func() *http.Request {
		return func() *http.Request { return httptest.NewRequest(m, path, nil) }
	}
	violation := func(field, desc, reason string) *errdetails.BadRequest_FieldViolation {
		return &errdetails.BadRequest_FieldViolation{Field: field, Description: desc, Reason: reason}
	}
	svc := func(code codes.Code, reason, msg string) error { return apierr.New(code, reason, msg, nil) }
	return []procoreErrorCase{
		// Malformed input, refused by the gateway: 400 (415), a message.
		{name: "malformed body", reason: apierr.ReasonInvalidRequest,
			jsonReq: jsonReq(path, "application/json", `{"user":`), formReq: formReq(path, "user[city]", "a", "user[city]", "b"),
			status: 400, shape: shapeMessage},
		{name: "unknown field", reason: apierr.ReasonInvalidRequest,
			jsonReq: jsonReq(path, "application/json", `{"user":{"city":"a"},"citty":1}`), formReq: formReq(path, "user[citty]", "a"),
			status: 400, shape: shapeMessage},
		{name: "unknown query parameter", reason: apierr.ReasonInvalidRequest,
			jsonReq: jsonReq(path+"?view=x", "application/json", `{"user":{"city":"a"}}`), formReq: formReq(path+"?view=x", "user[city]", "a"),
			status: 400, shape: shapeMessage},
		{name: "bad path parameter", reason: apierr.ReasonInvalidRequest,
			jsonReq: jsonReq("/rest/v1.3/companies/acme/users/1001", "application/json", `{"user":{"city":"a"}}`), formReq: formReq("/rest/v1.3/companies/acme/users/1001", "user[city]", "a"),
			status: 400, shape: shapeMessage},
		{name: "wrong media type", reason: apierr.ReasonInvalidRequest,
			jsonReq: jsonReq(path, "text/plain", `{"user":{"city":"a"}}`), formReq: jsonReq(path, "application/x-www-form-urlencoded", "user[city]=a"),
			status: 415, shape: shapeMessage},
		{name: "method not allowed", reason: apierr.ReasonMethodNotAllowed,
			jsonReq: method(http.MethodDelete), formReq: method(http.MethodPut), status: 405, shape: shapeMessage},

		// The service's validation: 422 per field; anything else 400.
		{name: "field validation", reason: apierr.ReasonInvalidRequest,
			err: apierr.InvalidArgument([]*errdetails.BadRequest_FieldViolation{
				violation("user.email_address", "value must be a valid email address", "string.email"),
				violation("user.country_code", "country_code \"XX\" is not an ISO 3166-1 alpha-2 country code", "UNKNOWN_COUNTRY"),
				violation("avatar.content", "the bytes are text/plain, not the declared image/png", "AVATAR_NOT_AN_IMAGE"),
			}),
			status: 422, shape: shapeFields, fields: []string{"avatar", "country_code", "email_address"}},
		{name: "request validation", reason: apierr.ReasonInvalidRequest,
			err:    apierr.InvalidArgument([]*errdetails.BadRequest_FieldViolation{violation("update_mask", "unknown field nope", "INVALID_UPDATE_MASK")}),
			status: 400, shape: shapeMessage},

		// Procore's own answers: status and body passed through.
		{name: "Procore 400", reason: apierr.ReasonUpstreamBadRequest,
			err:    fromProcore(codes.InvalidArgument, apierr.ReasonUpstreamBadRequest, 400, procore400, violation("user.last_name", "last_name can't be blank", "UPSTREAM_FIELD_ERROR")),
			status: 400, shape: shapePassThrough, body: procore400},
		{name: "Procore 401", reason: apierr.ReasonUpstreamUnauthenticated,
			err: fromProcore(codes.Unauthenticated, apierr.ReasonUpstreamUnauthenticated, 401, procore401), status: 401, shape: shapePassThrough, body: procore401},
		{name: "Procore 403", reason: apierr.ReasonUpstreamPermissionDenied,
			err: fromProcore(codes.PermissionDenied, apierr.ReasonUpstreamPermissionDenied, 403, procore403), status: 403, shape: shapePassThrough, body: procore403},
		{name: "Procore 403, flat body", reason: apierr.ReasonUpstreamPermissionDenied,
			err: fromProcore(codes.PermissionDenied, apierr.ReasonUpstreamPermissionDenied, 403, procore403Flat), status: 403, shape: shapePassThrough, body: procore403Flat},
		{name: "Procore 404", reason: apierr.ReasonUpstreamNotFound,
			err: fromProcore(codes.NotFound, apierr.ReasonUpstreamNotFound, 404, procore404), status: 404, shape: shapePassThrough, body: procore404},
		{name: "Procore 409", reason: apierr.ReasonUpstreamConflict,
			err: fromProcore(codes.Aborted, apierr.ReasonUpstreamConflict, 409, procore409), status: 409, shape: shapePassThrough, body: procore409},
		{name: "Procore 422", reason: apierr.ReasonUpstreamValidation,
			err: fromProcore(codes.InvalidArgument, apierr.ReasonUpstreamValidation, 422, procore422,
				violation("user.email_address", "email_address is invalid", "UPSTREAM_FIELD_ERROR"),
				violation("user.state_code", "state_code is not a subdivision of US", "UPSTREAM_FIELD_ERROR")),
			status: 422, shape: shapePassThrough, body: procore422},
		{name: "Procore 422, body too long to carry: rebuilt from the details", reason: apierr.ReasonUpstreamValidation,
			err: fromProcore(codes.InvalidArgument, apierr.ReasonUpstreamValidation, 422, "",
				violation("user.email_address", "email_address is invalid", "UPSTREAM_FIELD_ERROR"),
				violation("user.state_code", "state_code is not a subdivision of US", "UPSTREAM_FIELD_ERROR")),
			status: 422, shape: shapePassThrough, body: procore422},
		{name: "Procore 429", reason: apierr.ReasonUpstreamRateLimited,
			err:    withRetry(fromProcore(codes.ResourceExhausted, apierr.ReasonUpstreamRateLimited, 429, procore429), 30*time.Second),
			status: 429, shape: shapePassThrough, body: procore429, retryAfter: "30"},
		{name: "Procore 500 on a GET", reason: apierr.ReasonUpstreamInternal,
			err: fromProcore(codes.Internal, apierr.ReasonUpstreamInternal, 500, procore500), status: 500, shape: shapePassThrough, body: procore500},
		{name: "Procore 503", reason: apierr.ReasonUpstreamUnavailable,
			err:    withRetry(fromProcore(codes.Unavailable, apierr.ReasonUpstreamUnavailable, 503, `{"errors":"Service Unavailable"}`), 2*time.Second),
			status: 503, shape: shapePassThrough, body: `{"errors":"Service Unavailable"}`, retryAfter: "2"},
		{name: "Procore 502 after a PATCH, outcome unknown", reason: apierr.ReasonUpstreamOutcomeUnknown,
			err: fromProcore(codes.Unavailable, apierr.ReasonUpstreamOutcomeUnknown, 502, procore502), status: 502, shape: shapePassThrough, body: procore502},
		{name: "Procore 418", reason: apierr.ReasonUpstreamUnexpected,
			err: fromProcore(codes.Unknown, apierr.ReasonUpstreamUnexpected, 418, procore418), status: 418, shape: shapePassThrough, body: procore418},

		// The service's own conditions: Procore's nearest case.
		{name: "rate budget spent before the deadline", reason: apierr.ReasonUpstreamRateLimited,
			err: withRetry(svc(codes.ResourceExhausted, apierr.ReasonUpstreamRateLimited, "rate limit spent, request not sent"), 90*time.Second), status: 429, shape: shapeMessage, retryAfter: "90"},
		{name: "overloaded", reason: apierr.ReasonOverloaded,
			err: withRetry(svc(codes.Unavailable, apierr.ReasonOverloaded, "overloaded, request not sent"), 2*time.Second), status: 503, shape: shapeMessage, retryAfter: "2"},
		{name: "shutting down", reason: apierr.ReasonShuttingDown,
			err: svc(codes.Unavailable, apierr.ReasonShuttingDown, "the server is stopping"), status: 503, shape: shapeMessage, retryAfter: "1"},
		{name: "audit trail unavailable", reason: apierr.ReasonAuditUnavailable,
			err: svc(codes.Unavailable, apierr.ReasonAuditUnavailable, "audit unavailable, request not sent"), status: 503, shape: shapeMessage, retryAfter: "1"},
		{name: "circuit open", reason: apierr.ReasonUpstreamCircuitOpen,
			err: withRetry(svc(codes.Unavailable, apierr.ReasonUpstreamCircuitOpen, "circuit open"), 6*time.Second), status: 503, shape: shapeMessage, retryAfter: "6"},
		{name: "Procore unreachable", reason: apierr.ReasonUpstreamUnavailable,
			err: svc(codes.Unavailable, apierr.ReasonUpstreamUnavailable, "unavailable: connection refused"), status: 503, shape: shapeMessage, retryAfter: "1"},
		{name: "not applied, safe to retry", reason: apierr.ReasonUpstreamNotApplied,
			err: withRetry(apierr.New(codes.Aborted, apierr.ReasonUpstreamNotApplied, "not applied", map[string]string{apierr.MetaUpstreamStatus: "500"}), 2*time.Second), status: 503, shape: shapeMessage, retryAfter: "2"},
		{name: "outcome unknown, answer lost", reason: apierr.ReasonUpstreamOutcomeUnknown,
			err: svc(codes.Unavailable, apierr.ReasonUpstreamOutcomeUnknown, "Procore's answer was lost"), status: 504, shape: shapeMessage},
		{name: "deadline", reason: apierr.ReasonDeadlineExceeded,
			err: svc(codes.DeadlineExceeded, apierr.ReasonDeadlineExceeded, "the caller's deadline ran out"), status: 504, shape: shapeMessage},
		{name: "canceled", reason: apierr.ReasonCanceled,
			err: svc(codes.Canceled, apierr.ReasonCanceled, "canceled by the caller"), status: 499, shape: shapeMessage},
		{name: "bad response", reason: apierr.ReasonUpstreamBadResponse,
			err: svc(codes.Internal, apierr.ReasonUpstreamBadResponse, "bad response"), status: 502, shape: shapeMessage},
		{name: "redirect", reason: apierr.ReasonUpstreamRedirect,
			err: apierr.New(codes.Internal, apierr.ReasonUpstreamRedirect, "redirect", map[string]string{apierr.MetaUpstreamStatus: "302", apierr.MetaUpstreamBody: "moved"}), status: 502, shape: shapeMessage},
		{name: "internal", reason: apierr.ReasonInternal,
			err: svc(codes.Internal, apierr.ReasonInternal, "internal error"), status: 500, shape: shapeMessage},
		{name: "shared state unavailable", reason: apierr.ReasonInternal,
			err: svc(codes.Unavailable, apierr.ReasonInternal, "shared state unavailable"), status: 503, shape: shapeMessage, retryAfter: "1"},
		{name: "no route (not from this route; the shape all the same)", reason: apierr.ReasonNotFound,
			err: svc(codes.NotFound, apierr.ReasonNotFound, "no such route"), status: 404, shape: shapeMessage},

		// Credentials and policy.
		{name: "missing credentials", reason: apierr.ReasonMissingCredentials,
			err: svc(codes.Unauthenticated, apierr.ReasonMissingCredentials, "no Procore credentials"), status: 401, shape: shapeOAuth},
		{name: "caller unauthenticated", reason: apierr.ReasonCallerUnauthenticated,
			err: svc(codes.Unauthenticated, apierr.ReasonCallerUnauthenticated, "no verified client certificate"), status: 401, shape: shapeOAuth},
		{name: "caller not allowed", reason: apierr.ReasonCallerNotAllowed,
			err: svc(codes.PermissionDenied, apierr.ReasonCallerNotAllowed, "caller not in the policy"), status: 403, shape: shapeMessage},
		{name: "company not allowed", reason: apierr.ReasonCompanyNotAllowed,
			err: svc(codes.PermissionDenied, apierr.ReasonCompanyNotAllowed, "company not allowed"), status: 403, shape: shapeMessage},
		{name: "admin field not allowed", reason: apierr.ReasonAdminFieldNotAllowed,
			err: svc(codes.PermissionDenied, apierr.ReasonAdminFieldNotAllowed, "You do not have permission to change email_address"), status: 403, shape: shapeMessage},
	}
}

// TestProcoreRouteErrors: every error reason the service can answer on
// the Procore-compatible route comes back in Procore's status and body
// shape, for a JSON and a multipart PATCH alike, with the reason in
// X-Directoryd-Reason and an X-Request-Id; /v1 answers the same errors
// in google.rpc.Status, unchanged.
func TestProcoreRouteErrors(t *testing.T) {
	cases := procoreErrorCases()
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.reason] = true
	}
	// Reasons that only an operation's error carries (google.longrunning),
	// never the answer to a call on this route.
	// ListAuditEvents' own refusal is never an update's answer either.
	for _, reason := range []string{apierr.ReasonBatchNoneSucceeded, apierr.ReasonBatchCancelled, apierr.ReasonAuditListOff} {
		covered[reason] = true
	}
	for _, reason := range apierrReasons(t) {
		if !covered[reason] {
			t.Errorf("reason %s has no case", reason)
		}
	}
	for _, c := range cases {
		h, err := New(context.Background(), errorConn{c.err})
		if err != nil {
			t.Fatal(err)
		}
		for _, form := range []string{"json", "multipart"} {
			t.Run(c.name+"/"+form, func(t *testing.T) {
				r := procoreRequest(form)
				if c.err == nil {
					r = c.jsonReq()
					if form == "multipart" {
						r = c.formReq()
					}
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				checkProcoreError(t, w, c)
			})
		}
		if c.err != nil {
			t.Run(c.name+"/v1", func(t *testing.T) {
				r := httptest.NewRequest(http.MethodPatch, "/v1/companies/8089/users/1001", strings.NewReader(`{"city":"x"}`))
				r.Header.Set("Content-Type", "application/json")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				var st struct {
					Code    int `json:"code"`
					Details []struct {
						Type   string `json:"@type"`
						Reason string `json:"reason"`
					} `json:"details"`
				}
				if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil || st.Code != int(status.Code(c.err)) || len(st.Details) == 0 || st.Details[0].Reason != c.reason {
					t.Errorf("/v1: HTTP %d %s, want google.rpc.Status code %d reason %s", w.Code, w.Body, status.Code(c.err), c.reason)
				}
				if w.Header().Get(ErrorReasonHeader) != "" {
					t.Errorf("/v1 answer carries %s", ErrorReasonHeader)
				}
			})
		}
	}
}

// procoreRequest is a well-formed PATCH, as JSON or as multipart.
func procoreRequest(form string) *http.Request {
	const path = "/rest/v1.3/companies/8089/users/1001"
	if form == "json" {
		r := httptest.NewRequest(http.MethodPatch, path, strings.NewReader(`{"user":{"city":"Salem"}}`))
		r.Header.Set("Content-Type", "application/json")
		return r
	}
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	_ = mw.WriteField("user[city]", "Salem")
	_ = mw.Close()
	r := httptest.NewRequest(http.MethodPatch, path, &b)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	return r
}

func checkProcoreError(t *testing.T, w *httptest.ResponseRecorder, c procoreErrorCase) {
	t.Helper()
	if w.Code != c.status {
		t.Fatalf("HTTP %d, want %d: %s", w.Code, c.status, w.Body)
	}
	if got := w.Header().Get(ErrorReasonHeader); got != c.reason {
		t.Errorf("%s %q, want %q", ErrorReasonHeader, got, c.reason)
	}
	if w.Header().Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id")
	}
	if got := w.Header().Get("Retry-After"); got != c.retryAfter {
		t.Errorf("Retry-After %q, want %q", got, c.retryAfter)
	}
	if c.shape == shapePassThrough {
		if json.Valid([]byte(c.body)) {
			var got, want any
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatalf("body %s: %v", w.Body, err)
			}
			_ = json.Unmarshal([]byte(c.body), &want)
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(want)
			if !bytes.Equal(gb, wb) {
				t.Errorf("body %s, want Procore's %s", w.Body, c.body)
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			return
		}
		if w.Body.String() != c.body || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
			t.Errorf("body %q (%s), want Procore's %q as text/plain", w.Body, w.Header().Get("Content-Type"), c.body)
		}
		return
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %s: %v", w.Body, err)
	}
	switch c.shape {
	case shapeMessage:
		var msg string
		if len(body) != 1 || json.Unmarshal(body["errors"], &msg) != nil || msg == "" {
			t.Errorf("body %s, want {\"errors\": \"<message>\"}", w.Body)
		}
	case shapeFields:
		var fields map[string][]string
		if len(body) != 1 || json.Unmarshal(body["errors"], &fields) != nil {
			t.Fatalf("body %s, want {\"errors\": {\"<field>\": [\"<message>\"]}}", w.Body)
		}
		var keys []string
		for k, msgs := range fields {
			keys = append(keys, k)
			if len(msgs) != 1 || msgs[0] == "" {
				t.Errorf("%s: messages %q, want one", k, msgs)
			}
		}
		slices.Sort(keys)
		if !slices.Equal(keys, c.fields) {
			t.Errorf("fields %v, want %v", keys, c.fields)
		}
	case shapeOAuth:
		var e, desc string
		if len(body) != 2 || json.Unmarshal(body["error"], &e) != nil || e != "invalid_token" || json.Unmarshal(body["error_description"], &desc) != nil || desc == "" {
			t.Errorf("body %s, want {\"error\": \"invalid_token\", \"error_description\": \"...\"}", w.Body)
		}
		if w.Header().Get("WWW-Authenticate") == "" {
			t.Error("401 without WWW-Authenticate")
		}
	}
}

// apierrReasons is every Reason* constant of service/apierr: the reasons
// the service can answer on any route. (service/server's TOO_MANY_STREAMS
// is Health/Watch's only, and service/operations' reasons the operation
// routes'.)
func apierrReasons(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../apierr/apierr.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, decl := range f.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.CONST {
			continue
		}
		for _, spec := range gen.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !strings.HasPrefix(name.Name, "Reason") || !ok {
					continue
				}
				v, _ := strconv.Unquote(lit.Value)
				out = append(out, v)
			}
		}
	}
	if len(out) < 20 {
		t.Fatalf("found only %d reasons in apierr.go", len(out))
	}
	return out
}
