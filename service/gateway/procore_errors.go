package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/procore-directory/procore-directory/service/apierr"
)

// The Procore-compatible route's errors are Procore's: the status and body
// shape Procore uses for the case (CONTRACT.md, "Validation errors" and
// "Other errors"), so that code written against Procore, which reads
// errors.email_address or shows errors to a person, keeps working behind
// the service. The service's richer answer is not lost: every error also
// carries the ErrorInfo reason in ErrorReasonHeader and X-Request-Id. /v1
// keeps google.rpc.Status (gatewayErrorHandler); muxErrorHandler, the
// mux's one error handler, tells the two apart.

// ErrorReasonHeader is the response header in which the Procore-compatible
// route names an error's google.rpc.ErrorInfo reason (docs/api.md), the
// stable name a program branches on, as /v1 callers read it in the body.
const ErrorReasonHeader = "X-Directoryd-Reason"

// muxErrorHandler is the mux's error handler: Procore's error shapes on the
// Procore-compatible route (the mux routed the request there, or, for a
// 405, its path is that route's), google.rpc.Status everywhere else.
func muxErrorHandler(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	if onProcoreRoute(ctx) || isProcorePath(r.URL.Path) {
		procoreErrorHandler(ctx, w, r, err)
		return
	}
	gatewayErrorHandler(ctx, mux, m, w, r, err)
}

// isProcorePath reports whether path is the Procore-compatible route's,
// for requests the mux routed nowhere (a method the route does not serve).
func isProcorePath(path string) bool {
	return matchSegments(strings.Split(strings.TrimPrefix(procorePattern, "/"), "/"), strings.Split(strings.TrimPrefix(path, "/"), "/"))
}

// serviceError marks an error the service answered, as opposed to one the
// gateway raised on the request itself (its path, query or body, which is
// malformed input, 400): only the service's own validation of field
// values is Procore's 422. It is the service's status unchanged
// (GRPCStatus), so every other reader sees the error as it was.
type serviceError struct{ err error }

func (e serviceError) Error() string              { return e.err.Error() }
func (e serviceError) Unwrap() error              { return e.err }
func (e serviceError) GRPCStatus() *status.Status { return status.Convert(e.err) }

// answered is the service's answer with its error marked serviceError.
func answered[T any](resp T, err error) (T, error) {
	if err != nil {
		err = serviceError{err}
	}
	return resp, err
}

// procoreError is one error answer of the Procore-compatible route.
type procoreError struct {
	status      int
	body        []byte
	contentType string
	retry       bool // the answer says to come back: it carries Retry-After
}

// procoreErrorHandler writes err as Procore would have answered it, with
// the reason in ErrorReasonHeader, X-Request-Id, Retry-After on a 429 or 503
// (the RetryInfo's, else 1 second), and the server's header metadata as on
// every route.
func procoreErrorHandler(ctx context.Context, w http.ResponseWriter, r *http.Request, err error) {
	var svc serviceError
	fromService := errors.As(err, &svc)
	st, httpStatus := normalizedStatus(err)
	info := errorInfo(st)
	answer := procoreAnswer(st, info, httpStatus, fromService)

	h := w.Header()
	md, _ := runtime.ServerMetadataFromContext(ctx)
	for k, vs := range md.HeaderMD {
		if name, ok := outgoingHeader(k); ok {
			for _, v := range vs {
				h.Add(name, v)
			}
		}
	}
	if h.Get("X-Request-Id") == "" {
		h.Set("X-Request-Id", requestID(r, append(md.HeaderMD.Get("x-request-id"), "")[0]))
	}
	h.Set(ErrorReasonHeader, info.GetReason())
	if answer.retry {
		secs := retryAfter(st)
		if secs == "" {
			secs = "1"
		}
		h.Set("Retry-After", secs)
	}
	if answer.status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	}
	h.Set("Content-Type", answer.contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Length")
	w.WriteHeader(answer.status)
	_, _ = w.Write(answer.body)
}

// procoreAnswer chooses the status and body, by who answered:
//   - Procore (an UPSTREAM_* reason with Procore's 4xx or 5xx status in
//     the metadata): that status, and Procore's body as the service
//     carried it (redacted; rebuilt from the details when it was not
//     carried: too long, or none);
//   - the service's validation of field values (BadRequest on user fields
//     only): 422 {"errors": {"<field>": ["<message>"]}};
//   - malformed input: 400 (415 for the media type) {"errors": "<message>"};
//   - the rest by the nearest case Procore has (errorStatus).
func procoreAnswer(st *status.Status, info *errdetails.ErrorInfo, httpStatus int, fromService bool) procoreError {
	reason := info.GetReason()
	if upstream, err := strconv.Atoi(info.GetMetadata()[apierr.MetaUpstreamStatus]); err == nil && upstream >= 400 && upstream < 600 &&
		strings.HasPrefix(reason, "UPSTREAM_") && reason != apierr.ReasonUpstreamNotApplied {
		retry := upstream == http.StatusTooManyRequests || upstream == http.StatusServiceUnavailable
		if body, ok := info.GetMetadata()[apierr.MetaUpstreamBody]; ok {
			ct := "text/plain; charset=utf-8"
			if json.Valid([]byte(body)) {
				ct = "application/json; charset=utf-8"
			}
			return procoreError{status: upstream, body: []byte(body), contentType: ct, retry: retry}
		}
		if fields := userFieldErrors(st, true); fields != nil {
			return jsonError(upstream, map[string]any{"errors": fields}, retry)
		}
		return messageError(upstream, st.Message(), retry)
	}
	if st.Code() == codes.InvalidArgument {
		if fields := userFieldErrors(st, false); fromService && fields != nil {
			return jsonError(http.StatusUnprocessableEntity, map[string]any{"errors": fields}, false)
		}
		if httpStatus == http.StatusUnsupportedMediaType {
			return messageError(httpStatus, st.Message(), false)
		}
		return messageError(http.StatusBadRequest, st.Message(), false)
	}
	status, retry := errorStatus(st.Code(), reason, httpStatus)
	switch status {
	case http.StatusUnauthorized:
		return jsonError(status, map[string]any{"error": "invalid_token", "error_description": st.Message()}, false)
	case http.StatusNotFound:
		return messageError(status, "Not Found", false)
	}
	return messageError(status, st.Message(), retry)
}

// errorStatus is the status Procore uses for the case nearest to one of
// the service's own conditions, and whether it says when to come back:
// its rate budget spent (429), a refusal before anything was sent, or
// an update proven not applied (503, safe to retry), an answer lost with
// the update's outcome unknown or the caller's deadline (504: Procore's
// "upstream trouble", which a client must not replay blindly, as it may
// a 503), a bad or redirecting answer from Procore (502).
func errorStatus(code codes.Code, reason string, httpStatus int) (status int, retry bool) {
	switch {
	case httpStatus == http.StatusMethodNotAllowed:
		return httpStatus, false
	case reason == apierr.ReasonUpstreamOutcomeUnknown, code == codes.DeadlineExceeded:
		return http.StatusGatewayTimeout, false
	case reason == apierr.ReasonUpstreamNotApplied, code == codes.Unavailable:
		return http.StatusServiceUnavailable, true
	case code == codes.ResourceExhausted:
		return http.StatusTooManyRequests, true
	case reason == apierr.ReasonUpstreamRedirect, reason == apierr.ReasonUpstreamBadResponse:
		return http.StatusBadGateway, false
	case code == codes.Unauthenticated:
		return http.StatusUnauthorized, false
	case code == codes.PermissionDenied:
		return http.StatusForbidden, false
	case code == codes.NotFound:
		return http.StatusNotFound, false
	case code == codes.Aborted:
		return http.StatusConflict, false
	case code == codes.Canceled:
		return 499, false // the caller went away; grpc-gateway's status for it
	}
	return http.StatusInternalServerError, false
}

// userFieldErrors is st's BadRequest as Procore's field errors, keyed by
// the field's name in Procore's body (user.email_address is
// email_address; the avatar's parts are avatar), or nil unless every
// violation names a user field. Procore's own messages come back from the
// service as "<field> <message>" (upstream), so trimField drops the name.
func userFieldErrors(st *status.Status, trimField bool) map[string][]string {
	var out map[string][]string
	for _, d := range st.Details() {
		br, ok := d.(*errdetails.BadRequest)
		if !ok {
			continue
		}
		for _, v := range br.GetFieldViolations() {
			name, ok := procoreFieldName(v.GetField())
			if !ok {
				return nil
			}
			msg := v.GetDescription()
			if trimField {
				msg = strings.TrimPrefix(msg, name+" ")
			}
			if out == nil {
				out = map[string][]string{}
			}
			out[name] = append(out[name], msg)
		}
	}
	return out
}

// procoreFieldName maps a BadRequest field path to the field's name in
// Procore's body; ok is false for anything but a user field.
func procoreFieldName(path string) (name string, ok bool) {
	if path == "avatar" || strings.HasPrefix(path, "avatar.") {
		return "avatar", true
	}
	name, ok = strings.CutPrefix(path, "user.")
	return name, ok && name != ""
}

// errorInfo is st's ErrorInfo (normalizedStatus gives every error one).
func errorInfo(st *status.Status) *errdetails.ErrorInfo {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info
		}
	}
	return &errdetails.ErrorInfo{Reason: apierr.ReasonInternal, Domain: apierr.Domain}
}

// messageError is Procore's {"errors": "<message>"}.
func messageError(status int, msg string, retry bool) procoreError {
	return jsonError(status, map[string]any{"errors": msg}, retry)
}

func jsonError(status int, body map[string]any, retry bool) procoreError {
	b, err := json.Marshal(body)
	if err != nil { // strings and string slices only: cannot fail
		b = []byte(`{"errors":"internal error"}`)
	}
	return procoreError{status: status, body: b, contentType: "application/json; charset=utf-8", retry: retry}
}

// requestID is the id the error answer carries when no middleware set
// X-Request-Id: the one the service returned in metadata, else the
// caller's, else a new one.
func requestID(r *http.Request, fromService string) string {
	for _, id := range []string{fromService, r.Header.Get("X-Request-Id")} {
		if id != "" && len(id) <= 128 && isPrintableASCII(id) {
			return id
		}
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func isPrintableASCII(s string) bool {
	for i := range len(s) {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
