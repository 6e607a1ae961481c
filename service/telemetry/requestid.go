package telemetry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"

	"google.golang.org/grpc/metadata"
)

// RequestIDHeader is the metadata key (and, through the gateway, the HTTP
// header) that carries a call's request id both ways.
const RequestIDHeader = "x-request-id"

// validRequestID accepts a caller's request id only when it is short and
// made of token characters, so it cannot inject into logs or carry
// personal data in bulk; otherwise a new one is generated.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

// newRequestID returns 16 random bytes in hex.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// requestIDFromContext returns the caller's valid request id, or a new one.
// It reads the one key (metadata.FromIncomingContext would copy every
// entry of the call's metadata, on every call).
func requestIDFromContext(ctx context.Context) string {
	if v := metadata.ValueFromIncomingContext(ctx, RequestIDHeader); len(v) == 1 && validRequestID(v[0]) {
		return v[0]
	}
	return newRequestID()
}

// RequestIDMiddleware gives every HTTP request a request id (the caller's
// X-Request-Id when valid, else a new one), forwards it to the gRPC server
// (the gateway maps the header to x-request-id metadata, where the access
// log takes it) and returns it in the X-Request-Id response header.
func RequestIDMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = newRequestID()
			r.Header.Set("X-Request-Id", id)
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r)
	})
}
