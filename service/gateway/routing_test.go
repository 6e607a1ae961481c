package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// unavailableConn is a channel whose every call fails UNAVAILABLE: enough to
// tell a route that is served (503) from a routing error (404, 405).
type unavailableConn struct{}

func (unavailableConn) Invoke(context.Context, string, any, any, ...grpc.CallOption) error {
	return status.Error(codes.Unavailable, "fake channel")
}

func (unavailableConn) NewStream(context.Context, *grpc.StreamDesc, string, ...grpc.CallOption) (grpc.ClientStream, error) {
	return nil, status.Error(codes.Unavailable, "fake channel")
}

// TestRouteTableMatchesServer: for every path, the methods a 405 lists in
// Allow are exactly those the gateway serves (answers with neither 404 nor
// 405), so the hand-kept route table cannot drift from the routes.
func TestRouteTableMatchesServer(t *testing.T) {
	h, err := New(context.Background(), unavailableConn{}, WithHandler("GET /metrics", http.NotFoundHandler()))
	if err != nil {
		t.Fatal(err)
	}
	methods := []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions}
	tests := []struct {
		path string
		want []string
	}{
		{"/v1/companies/8089/users/1001", []string{"GET", "PATCH"}},
		{"/rest/v1.3/companies/8089/users/1001", []string{"GET", "PATCH"}},
		{"/openapi.json", []string{"GET", "HEAD"}},
		{"/openapi.v3.json", []string{"GET", "HEAD"}},
		{"/healthz", []string{"GET", "HEAD"}},
		{"/readyz", []string{"GET", "HEAD"}},
		{"/metrics", []string{"GET", "HEAD"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			var served []string
			for _, m := range methods {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(m, tt.path, strings.NewReader("{}")))
				switch rec.Code {
				case http.StatusNotFound:
					if tt.path != "/metrics" || m != http.MethodGet && m != http.MethodHead { // the stand-in /metrics answers 404
						t.Errorf("%s %s: 404 on a known path", m, tt.path)
					}
					served = append(served, m)
				case http.StatusMethodNotAllowed:
					if got := rec.Header().Get("Allow"); got != strings.Join(tt.want, ", ") {
						t.Errorf("%s %s: Allow %q, want %q", m, tt.path, got, strings.Join(tt.want, ", "))
					}
				default:
					served = append(served, m)
				}
			}
			if !slices.Equal(served, tt.want) {
				t.Errorf("served methods %v, want %v", served, tt.want)
			}
		})
	}
}

func TestRouteTableAllowed(t *testing.T) {
	var rt routeTable
	rt.add(v1Pattern, http.MethodPatch)
	rt.add(v1Pattern, http.MethodGet)
	rt.addServeMuxPattern("GET /healthz")
	rt.addServeMuxPattern("/catch-all")
	tests := []struct {
		path string
		want []string
	}{
		{"/v1/companies/1/users/2", []string{"GET", "PATCH"}},
		{"/v1/companies/x/users/y", []string{"GET", "PATCH"}}, // a parameter matches any segment
		{"/v1/companies//users/2", nil},                       // but not an empty one
		{"/v1/companies/1/users", nil},
		{"/v1/companies/1/users/2/x", nil},
		{"/healthz", []string{"GET", "HEAD"}},
		{"/catch-all", nil},
		{"/", nil},
	}
	for _, tt := range tests {
		if got := rt.allowed(tt.path); !slices.Equal(got, tt.want) {
			t.Errorf("allowed(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
}
