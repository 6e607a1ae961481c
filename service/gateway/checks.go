package gateway

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"

	"github.com/procore-directory/procore-directory/service/apierr"
)

// requestChecks refuses, before any handler runs, what no route accepts:
// a path parameter that is not an integer (named, with a plain message,
// rather than grpc-gateway's "type mismatch" text blamed on the body), an
// avatar in the URL query, which grpc-gateway would otherwise decode
// into the request (an image does not belong in a URL: it ends up in
// access logs and proxies, and is capped by URL lengths), and what strict
// input refuses (strictinput.go): unknown, repeated or non-UTF-8 query
// parameters, and, on /v1, a body that is not JSON (415) or a JSON body
// with duplicate keys at any level or invalid UTF-8 (the Procore-compatible
// route holds its body to the same rules as it decodes it).
type requestChecks struct {
	mux *runtime.ServeMux // set once New built it
}

// middleware is the runtime.Middleware of the checks; it runs for every
// route of the mux, the Procore-compatible route's handlers included.
func (c *requestChecks) middleware(next runtime.HandlerFunc) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
		fail := func(err error) {
			_, outbound := runtime.MarshalerForRequest(c.mux, r)
			runtime.HTTPError(r.Context(), c.mux, outbound, w, r, err)
		}
		// operations.proto's GET and DELETE {name=operations/**} would
		// take an operation name ending in :cancel, CancelOperation's route.
		if strings.HasSuffix(r.URL.Path, ":cancel") && r.Method != http.MethodPost {
			fail(methodNotAllowed(w, r, []string{http.MethodPost}))
			return
		}
		violations := pathParamViolations(params)
		violations = append(violations, avatarQueryViolations(r)...)
		violations = append(violations, queryViolations(r, queryParams(r))...)
		violations = append(violations, idempotencyKey(r)...)
		if len(violations) > 0 {
			fail(apierr.InvalidArgument(violations))
			return
		}
		if r.Method == http.MethodPost { // batchUpdate, an operation's :cancel
			if err := mediaTypeError(r, "application/json"); err != nil {
				fail(err)
				return
			}
			if v := checkJSONBody(r, ""); len(v) > 0 {
				fail(apierr.InvalidArgument(v))
				return
			}
		}
		// The Procore-compatible route decodes and checks its own body,
		// reading it once (decodeProcoreUpdate); the /v1 body is the user,
		// in JSON, which grpc-gateway's handler decodes.
		if r.Method == http.MethodPatch && !onProcoreRoute(r.Context()) {
			if err := mediaTypeError(r, "application/json"); err != nil {
				fail(err)
				return
			}
			if v := checkJSONBody(r, "user"); len(v) > 0 {
				fail(apierr.InvalidArgument(v))
				return
			}
		}
		next(w, r, params)
	}
}

// pathParamViolations names each id path parameter that is not an integer.
// Zero and negative integers pass: the service's validation refuses them,
// naming the same field.
func pathParamViolations(params map[string]string) []*errdetails.BadRequest_FieldViolation {
	var out []*errdetails.BadRequest_FieldViolation
	for _, name := range []string{"company_id", "id"} { // every route's parameters, both int64
		v, ok := params[name]
		if !ok {
			continue
		}
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			out = append(out, &errdetails.BadRequest_FieldViolation{
				Field: name, Description: name + " must be a positive integer", Reason: "INVALID_PATH_PARAMETER",
			})
		}
	}
	return out
}

// parsePathIDs returns the two ids of a route whose parameters passed
// pathParamViolations.
func parsePathIDs(params map[string]string) (companyID, id int64) {
	companyID, _ = strconv.ParseInt(params["company_id"], 10, 64)
	id, _ = strconv.ParseInt(params["id"], 10, 64)
	return companyID, id
}

// avatarQueryViolations names each query parameter that would set the
// avatar (avatar, avatar.content, avatar.file_name, ...).
func avatarQueryViolations(r *http.Request) []*errdetails.BadRequest_FieldViolation {
	var out []*errdetails.BadRequest_FieldViolation
	for _, key := range slices.Sorted(maps.Keys(r.URL.Query())) {
		if first, _, _ := strings.Cut(key, "."); first != "avatar" {
			continue
		}
		out = append(out, &errdetails.BadRequest_FieldViolation{
			Field:       key,
			Description: fmt.Sprintf("%s cannot be a query parameter: send the avatar in the JSON body, or as the multipart user[avatar] file on the Procore-compatible route", key),
			Reason:      "AVATAR_IN_QUERY",
		})
	}
	return out
}

// IdempotencyKeyHeader is the REST form of UpdateCompanyUserRequest's
// request_id (AIP-155): the header payment APIs and the IETF draft use.
const IdempotencyKeyHeader = "Idempotency-Key"

// idempotencyKey moves the Idempotency-Key header of a PATCH into the
// request_id query parameter, which both PATCH routes decode into the
// request (grpc-gateway's handler for /v1, decodeProcoreUpdate for the
// Procore route). A request_id parameter that disagrees with the header
// is refused rather than one of them silently winning.
func idempotencyKey(r *http.Request) []*errdetails.BadRequest_FieldViolation {
	key := r.Header.Values(IdempotencyKeyHeader)
	if r.Method != http.MethodPatch || len(key) == 0 {
		return nil
	}
	q := r.URL.Query()
	if len(key) > 1 || (q.Has("request_id") && q.Get("request_id") != key[0]) {
		return []*errdetails.BadRequest_FieldViolation{{
			Field:       "request_id",
			Description: "send one Idempotency-Key header, and no request_id query parameter that differs from it",
			Reason:      "CONFLICTING_IDEMPOTENCY_KEY",
		}}
	}
	q.Set("request_id", key[0])
	r.URL.RawQuery = q.Encode()
	return nil
}
