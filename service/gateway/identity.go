package gateway

import (
	"net/http"
	"strings"

	"github.com/procore-directory/procore-directory/service/auth"
)

// ForwardCallerIdentity is the gateway middleware that tells the gRPC
// server who the REST caller is: the identity of the client certificate
// the HTTP server verified (r.TLS.VerifiedChains), in auth.CallerIdentityHeader
// metadata. Any such header the caller sent itself, plain or as
// Grpc-Metadata-*, is removed first, so a caller can only ever be its own
// certificate. The gRPC server believes the header only on the gateway's
// in-process channel (see CallerAuthentication). The gateway's header
// matcher forwards exactly this header as metadata.
func ForwardCallerIdentity(next http.Handler) http.Handler {
	forwardKey := http.CanonicalHeaderKey(auth.CallerIdentityHeader)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k := range r.Header {
			lk := strings.ToLower(k)
			if strings.HasSuffix(lk, auth.CallerIdentityHeader) {
				delete(r.Header, k)
			}
		}
		if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 && len(r.TLS.VerifiedChains[0]) > 0 {
			if id := auth.IdentityFromCertificate(r.TLS.VerifiedChains[0][0]); auth.ValidIdentity(id) {
				r.Header.Set(forwardKey, id)
			}
		}
		next.ServeHTTP(w, r)
	})
}
