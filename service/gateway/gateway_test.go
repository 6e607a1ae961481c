package gateway

import (
	"testing"

	"github.com/procore-directory/procore-directory/service/auth"
)

// TestIncomingHeader: which HTTP headers the gateway turns into metadata.
func TestIncomingHeader(t *testing.T) {
	tests := []struct {
		header  string
		wantKey string
		wantOK  bool
	}{
		{header: "X-Request-Id", wantKey: "x-request-id", wantOK: true},
		{header: "X-Directoryd-Caller-Identity", wantKey: auth.CallerIdentityHeader, wantOK: true},
		// Permanent HTTP headers keep grpc-gateway's prefix (the bare
		// authorization key is added by grpc-gateway itself).
		{header: "Authorization", wantKey: "grpcgateway-Authorization", wantOK: true},
		// Caller-chosen metadata is not forwarded: a caller cannot set keys
		// the service trusts, nor trace context, which comes only through the
		// HTTP span, so the server span stays its child.
		{header: "Grpc-Metadata-X-Custom"},
		{header: "Grpc-Metadata-Traceparent"},
		{header: "grpc-metadata-tracestate"},
		{header: "Grpc-Metadata-Baggage"},
		{header: "X-Unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			key, ok := incomingHeader(&callerIdentity{header: auth.CallerIdentityHeader})(tt.header)
			if ok != tt.wantOK || (ok && key != tt.wantKey) {
				t.Errorf("incomingHeader(%q) = %q, %v; want %q, %v", tt.header, key, ok, tt.wantKey, tt.wantOK)
			}
		})
	}
}

// TestIncomingHeaderWithoutCallerIdentity: without WithCallerIdentity no
// header becomes the identity metadata, so a gateway built without it
// cannot relay a caller's claim of an identity.
func TestIncomingHeaderWithoutCallerIdentity(t *testing.T) {
	if key, ok := incomingHeader(nil)("X-Directoryd-Caller-Identity"); ok && key == auth.CallerIdentityHeader {
		t.Errorf("forwarded as %q without WithCallerIdentity", key)
	}
}
