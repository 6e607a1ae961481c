package gateway

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/encoding/protojson"

	longrunninggw "github.com/procore-directory/procore-directory/gen/google/longrunning"
	"github.com/procore-directory/procore-directory/gen/openapi"
	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service/apierr"
)

// DefaultMaxBodyBytes bounds a REST request body: a 10 MiB avatar, base64
// encoded in JSON, plus the rest of the request.
const DefaultMaxBodyBytes = 15 << 20

// New returns the REST face of the service: GET and PATCH on /v1/... and
// on the Procore-compatible /rest/v1.3/..., calling the service through
// conn so every call passes the same interceptors (validation, auth,
// metrics) as a gRPC call, plus /openapi.json (Swagger 2.0) and
// /openapi.v3.json (OpenAPI 3.0), /healthz (the process is
// up) and /readyz (the gRPC server reports SERVING).
//
// JSON uses the proto field names (snake_case, as Procore does). Errors are
// google.rpc.Status JSON with their details, and the matching HTTP status
// (on the Procore-compatible route, Procore's own error shapes:
// procore_errors.go):
// a method a route does not serve gets 405 with Allow (METHOD_NOT_ALLOWED),
// an unknown route 404 (NOT_FOUND).
// opts add routes (such as /metrics) and middleware (tracing, request ids).
//
// conn is normally the server's in-process channel (Server.InProcess),
// which skips the socket, HTTP/2 and protobuf hop; a *grpc.ClientConn to a
// remote directoryd works too, without caller identities (a network
// connection never carries a believed forwarded identity).
func New(ctx context.Context, conn grpc.ClientConnInterface, opts ...Option) (http.Handler, error) {
	var gcfg config // extra routes and middleware (options.go)
	for _, o := range opts {
		o(&gcfg)
	}
	routes := &routeTable{}
	routes.add(v1Pattern, http.MethodGet, http.MethodPatch)
	routes.add("/v1/companies/{company_id}/users:batchUpdate", http.MethodPost)
	routes.add("/v1/operations", http.MethodGet)
	routes.add("/v1/operations/{name}", http.MethodGet, http.MethodDelete, http.MethodPost)
	checks := &requestChecks{}
	mux := runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, strictJSONPb{&runtime.JSONPb{
			MarshalOptions:   protojson.MarshalOptions{UseProtoNames: true},
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		}}),
		runtime.WithErrorHandler(muxErrorHandler),
		runtime.WithRoutingErrorHandler(routingErrorHandler(routes)),
		runtime.WithMiddlewares(checks.middleware),
		runtime.WithIncomingHeaderMatcher(incomingHeader(gcfg.identity)),
		runtime.WithOutgoingHeaderMatcher(outgoingHeader),
		// Without it operations.proto's GET /v1/{name=operations/**} also
		// matches GET /v1/operations (an empty **) and takes ListOperations.
		runtime.WithStrictDeepWildcardMatching(),
	)
	checks.mux = mux
	client := directoryv1.NewDirectoryServiceClient(conn)
	for _, register := range []func() error{
		func() error { return directoryv1.RegisterDirectoryServiceHandlerClient(ctx, mux, client) },
		func() error {
			return longrunninggw.RegisterOperationsHandlerClient(ctx, mux, longrunningpb.NewOperationsClient(conn))
		},
	} {
		if err := register(); err != nil {
			return nil, fmt.Errorf("gateway: %w", err)
		}
	}
	if err := registerProcoreRoute(mux, client, routes); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}

	health := healthpb.NewHealthClient(conn)
	root := http.NewServeMux()
	handle := func(pattern string, h http.Handler) {
		root.Handle(pattern, noQuery(mux, h))
		routes.addServeMuxPattern(pattern)
	}
	for pattern, doc := range map[string][]byte{"GET /openapi.json": openapi.JSON, "GET /openapi.v3.json": openapi.JSONv3} {
		handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(doc)
		}))
	}
	handle("GET /healthz", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	}))
	handle("GET /readyz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := health.Check(r.Context(), &healthpb.HealthCheckRequest{Service: directoryv1.DirectoryService_ServiceDesc.ServiceName})
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			http.Error(w, strings.TrimSuffix("not ready\n"+readyDetail(gcfg.readyDetail), "\n"), http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ready\n"+readyDetail(gcfg.readyDetail))
	}))
	for _, r := range gcfg.handlers {
		handle(r.pattern, r.h)
	}
	root.Handle("/", mux)
	return gcfg.wrap(http.MaxBytesHandler(root, DefaultMaxBodyBytes)), nil
}

// incomingHeader forwards the request id header to gRPC metadata, and the
// caller identity's header when WithCallerIdentity is given, besides
// grpc-gateway's defaults (Authorization among them).
func incomingHeader(identity *callerIdentity) runtime.HeaderMatcherFunc {
	return func(key string) (string, bool) {
		if strings.EqualFold(key, "X-Request-Id") {
			return "x-request-id", true
		}
		if identity != nil && strings.EqualFold(key, identity.header) { // set only by identity.middleware
			return identity.header, true
		}
		return runtime.DefaultHeaderMatcher(key)
	}
}

// outgoingHeader returns a validate_only update's request preview as the
// X-Procore-Request header, the name the README documents for curl users;
// other metadata keeps grpc-gateway's Grpc-Metadata- prefix.
func outgoingHeader(key string) (string, bool) {
	if key == apierr.ProcoreRequestHeader {
		return http.CanonicalHeaderKey(key), true
	}
	return runtime.MetadataHeaderPrefix + key, true
}

// noQuery refuses any query parameter on the routes that take none
// (/healthz, /readyz, /openapi.json, /metrics, ...), naming it, as the API
// routes do (strictinput.go).
func noQuery(mux *runtime.ServeMux, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery != "" {
			if v := queryViolations(r, nil); len(v) > 0 {
				_, outbound := runtime.MarshalerForRequest(mux, r)
				runtime.HTTPError(r.Context(), mux, outbound, w, r, apierr.InvalidArgument(v))
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}
