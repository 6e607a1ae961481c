package gateway

import (
	"crypto/x509"
	"net/http"
	"strings"
)

// WithCallerIdentity tells the gRPC server who each REST caller is: the
// identity identify finds in the client certificate the HTTP server
// verified (the leaf of r.TLS.VerifiedChains[0]; "" for none), in header
// metadata. Any such header the caller sent itself, plain or as
// Grpc-Metadata-*, is removed first, so a caller can only ever be its own
// certificate; the header matcher forwards the header as metadata only
// with this option. The gRPC server must believe the header only on the
// gateway's in-process channel. The rule and the header are the caller's
// (service/auth's), so that the gateway need not import them.
func WithCallerIdentity(header string, identify func(*x509.Certificate) string) Option {
	return func(c *config) {
		c.identity = &callerIdentity{header: strings.ToLower(header), identify: identify}
	}
}

// callerIdentity is WithCallerIdentity's header and rule.
type callerIdentity struct {
	header   string // lower case, as metadata keys are
	identify func(*x509.Certificate) string
}

// middleware sets the header to the verified identity, after removing any
// the caller sent.
func (ci *callerIdentity) middleware(next http.Handler) http.Handler {
	forwardKey := http.CanonicalHeaderKey(ci.header)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k := range r.Header {
			if strings.HasSuffix(strings.ToLower(k), ci.header) {
				delete(r.Header, k)
			}
		}
		if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 && len(r.TLS.VerifiedChains[0]) > 0 {
			if id := ci.identify(r.TLS.VerifiedChains[0][0]); id != "" {
				r.Header.Set(forwardKey, id)
			}
		}
		next.ServeHTTP(w, r)
	})
}
