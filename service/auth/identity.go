package auth

import (
	"context"
	"crypto/x509"
	"strings"
)

// CallerIdentityHeader is the metadata key (and, through the gateway, the
// HTTP header name the gateway itself sets) that carries the verified
// identity of a REST caller from the gateway to the service. It is
// believed only on the server's in-process channel (Server.InProcess);
// from any network connection it is dropped, so a network caller cannot
// claim someone else's identity by sending it.
const CallerIdentityHeader = "x-directoryd-caller-identity"

// Caller is the authenticated party of a call: who, not what token.
type Caller struct {
	// ID is the caller's identity as the authorization policy names it:
	// its client certificate's URI SAN (e.g. a SPIFFE ID), else its
	// subject common name.
	ID string
}

// callerKey is the context key of the Caller.
type callerKey struct{}

// ContextWithCaller returns ctx carrying the authenticated caller, which
// the authorizer then reads. Only the authentication interceptor (and
// tests) should call it: whatever is in the context is believed.
func ContextWithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFromContext returns the authenticated caller of the call, if any.
func CallerFromContext(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok && c.ID != ""
}

// IdentityFromCertificate names the caller a verified client certificate
// belongs to: its first URI SAN (SPIFFE IDs are URI SANs), else its subject
// common name, else "". Only a certificate that chained to the configured
// client CA may be passed here.
func IdentityFromCertificate(cert *x509.Certificate) string {
	if cert == nil {
		return ""
	}
	for _, u := range cert.URIs {
		if s := u.String(); s != "" {
			return s
		}
	}
	return strings.TrimSpace(cert.Subject.CommonName)
}

// ValidIdentity accepts identities that can travel as one metadata value
// and be named in a policy: printable ASCII without commas or surrounding
// spaces, of a sane length, so the value is unambiguous and cannot inject
// into logs.
func ValidIdentity(id string) bool {
	if id == "" || len(id) > 512 || strings.TrimSpace(id) != id {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < ' ' || c >= 0x7f || c == ',' {
			return false
		}
	}
	return true
}
