package gateway

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
)

// The Procore-compatible route, GET and PATCH on procorePattern, serves
// Procore's own requests and answers, so that a caller of Procore only
// changes its base URL. It is one unit: this file registers and serves it,
// procore_decode.go decodes its PATCH (reading and parsing the body once),
// procore_render.go renders its answers, procore_errors.go its errors (in
// Procore's shapes). The proto has no HTTP binding
// for it, so grpc-gateway's generated code knows nothing of it; the
// OpenAPI documents describe it from scripts/openapi.

// procorePattern is the Procore-compatible route's path template.
const procorePattern = "/rest/v1.3/companies/{company_id}/users/{id}"

// procoreRoute serves the Procore-compatible route by calling the service
// through the same channel as every other route, so every interceptor
// runs; only the request's decoding and the answer's rendering are its own.
type procoreRoute struct {
	mux    *runtime.ServeMux
	client directoryv1.DirectoryServiceClient
}

// registerProcoreRoute adds the route's GET and PATCH to mux (so the mux's
// middleware, the request checks, run for it too) and to routes (so a
// wrong method gets 405 with Allow).
func registerProcoreRoute(mux *runtime.ServeMux, client directoryv1.DirectoryServiceClient, routes *routeTable) error {
	p := &procoreRoute{mux: mux, client: client}
	if err := mux.HandlePath(http.MethodGet, procorePattern, p.get); err != nil {
		return fmt.Errorf("procore route: %w", err)
	}
	if err := mux.HandlePath(http.MethodPatch, procorePattern, p.update); err != nil {
		return fmt.Errorf("procore route: %w", err)
	}
	routes.add(procorePattern, http.MethodGet, http.MethodPatch)
	return nil
}

// onProcoreRoute reports whether the mux routed the request of ctx to the
// Procore-compatible route: the one rule by which the rest of the gateway
// (requestChecks, which leaves this route's body to its decoder) tells the
// route apart. runtime.Pattern spells each {name} segment as {name=*}.
func onProcoreRoute(ctx context.Context) bool {
	p, ok := runtime.HTTPPattern(ctx)
	return ok && p.String() == strings.ReplaceAll(procorePattern, "}", "=*}")
}

// get serves Procore's show: GetCompanyUser, answered in Procore's JSON,
// so that a Procore SDK caller that only changed its base URL can read a
// user as well as write one. The path names the user; requestChecks
// refuses any query parameter, as on /v1.
func (p *procoreRoute) get(w http.ResponseWriter, r *http.Request, params map[string]string) {
	p.serve(w, r, directoryv1.DirectoryService_GetCompanyUser_FullMethodName, func(ctx context.Context, opts ...grpc.CallOption) (proto.Message, error) {
		req := &directoryv1.GetCompanyUserRequest{}
		req.CompanyId, req.Id = parsePathIDs(params)
		return answered(p.client.GetCompanyUser(ctx, req, opts...))
	})
}

// update serves Procore's Update Company User: the request as Procore
// takes it (decodeProcoreUpdate), UpdateCompanyUser, and the answer in
// Procore's JSON.
func (p *procoreRoute) update(w http.ResponseWriter, r *http.Request, params map[string]string) {
	p.serve(w, r, directoryv1.DirectoryService_UpdateCompanyUser_FullMethodName, func(ctx context.Context, opts ...grpc.CallOption) (proto.Message, error) {
		req, err := decodeProcoreUpdate(r, params)
		if err != nil {
			return nil, err
		}
		return answered(p.client.UpdateCompanyUser(ctx, req, opts...))
	})
}

// serve runs one call the way grpc-gateway's generated handlers do: the
// gRPC method and the route's pattern in the context (metadata, tracing),
// the server's header and trailer metadata forwarded, errors through the
// mux's error handler (which answers this route's errors in Procore's
// shapes, procore_errors.go; call marks the service's errors with
// answered). The answer goes through procoreMarshaler, Procore's rendering.
func (p *procoreRoute) serve(w http.ResponseWriter, r *http.Request, method string,
	call func(ctx context.Context, opts ...grpc.CallOption) (proto.Message, error),
) {
	_, outbound := runtime.MarshalerForRequest(p.mux, r)
	ctx, err := runtime.AnnotateContext(r.Context(), p.mux, r, method, runtime.WithHTTPPathPattern(procorePattern))
	if err != nil {
		runtime.HTTPError(ctx, p.mux, outbound, w, r, err)
		return
	}
	var md runtime.ServerMetadata
	resp, err := call(ctx, grpc.Header(&md.HeaderMD), grpc.Trailer(&md.TrailerMD))
	ctx = runtime.NewServerMetadataContext(ctx, md)
	if err != nil {
		runtime.HTTPError(ctx, p.mux, outbound, w, r, err)
		return
	}
	runtime.ForwardResponseMessage(ctx, p.mux, procoreMarshaler{outbound}, w, r, resp)
}
