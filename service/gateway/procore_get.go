package gateway

import (
	"context"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
)

// procoreGet serves `GET /rest/v1.3/companies/{company_id}/users/{id}`,
// Procore's show, so that a Procore SDK caller that only changed its base
// URL can read a user as well as write one. It calls GetCompanyUser through
// the same channel as every route (so the interceptors run), and the
// answer is rendered as Procore's (procoreResponse: numbers and nulls).
// Query parameters are ignored, as Procore's show ignores those it does
// not know; an avatar in the query is refused by requestChecks.
func procoreGet(mux *runtime.ServeMux, client directoryv1.DirectoryServiceClient) runtime.HandlerFunc {
	const method = "/procore.directory.v1.DirectoryService/GetCompanyUser"
	return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
		serveProcore(mux, w, r, method, func(ctx context.Context, opts ...grpc.CallOption) (proto.Message, error) {
			req := &directoryv1.GetCompanyUserRequest{}
			req.CompanyId, req.Id = parsePathIDs(params)
			return client.GetCompanyUser(ctx, req, opts...)
		})
	}
}

// serveProcore runs one call of a Procore-compatible route the way
// grpc-gateway's generated handlers do: the gRPC method and the route's
// pattern in the context (metadata, tracing, procoreResponse), the server's
// header and trailer metadata forwarded, errors through the mux's handler.
func serveProcore(mux *runtime.ServeMux, w http.ResponseWriter, r *http.Request, method string,
	call func(ctx context.Context, opts ...grpc.CallOption) (proto.Message, error),
) {
	_, outbound := runtime.MarshalerForRequest(mux, r)
	ctx, err := runtime.AnnotateContext(r.Context(), mux, r, method, runtime.WithHTTPPathPattern(procorePattern))
	if err != nil {
		runtime.HTTPError(ctx, mux, outbound, w, r, err)
		return
	}
	var md runtime.ServerMetadata
	resp, err := call(ctx, grpc.Header(&md.HeaderMD), grpc.Trailer(&md.TrailerMD))
	ctx = runtime.NewServerMetadataContext(ctx, md)
	if err != nil {
		runtime.HTTPError(ctx, mux, outbound, w, r, err)
		return
	}
	runtime.ForwardResponseMessage(ctx, mux, outbound, w, r, resp)
}
