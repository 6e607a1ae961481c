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

// IdentityKind says which part of a client certificate an identity comes
// from. The two kinds never match each other: an identity's kind is
// written in its spelling (IdentityKindOf), and a certificate can only
// produce a URI identity from a URI SAN, so a CN that spells a SPIFFE ID
// cannot pass for the workload that owns that SPIFFE ID.
type IdentityKind uint8

const (
	// IdentityInvalid is no identity at all: refused.
	IdentityInvalid IdentityKind = iota
	// IdentityURI is a URI SAN, such as a SPIFFE ID: it has a scheme
	// ("spiffe:", "urn:", ...).
	IdentityURI
	// IdentityCN is a subject common name: it has no ':' at all.
	IdentityCN
)

// String implements fmt.Stringer.
func (k IdentityKind) String() string {
	switch k {
	case IdentityURI:
		return "URI SAN"
	case IdentityCN:
		return "CN"
	default:
		return "invalid"
	}
}

// Caller is the authenticated party of a call: who, not what token.
type Caller struct {
	// ID is the caller's identity as the authorization policy names it:
	// its client certificate's URI SAN (e.g. a SPIFFE ID), else its
	// subject common name. IdentityKindOf(ID) tells which.
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
// belongs to, or returns "" when the certificate names no acceptable
// identity (the call is then refused as unauthenticated):
//
//   - a certificate with URI SANs is its first URI SAN, which must be a
//     valid URI identity (with a scheme): there is no fall-back to the CN,
//     so a certificate cannot be two callers;
//   - a certificate without URI SANs is its subject common name, which must
//     be a valid CN identity: no ':' (a CN spelled like a URI never becomes
//     one), and never trimmed — a CN with surrounding spaces or control
//     characters names nobody.
//
// Only a certificate that chained to the configured client CA may be passed
// here.
func IdentityFromCertificate(cert *x509.Certificate) string {
	if cert == nil {
		return ""
	}
	if len(cert.URIs) > 0 {
		if u := cert.URIs[0]; u != nil && u.Scheme != "" {
			if s := u.String(); IdentityKindOf(s) == IdentityURI {
				return s
			}
		}
		return ""
	}
	if cn := cert.Subject.CommonName; IdentityKindOf(cn) == IdentityCN {
		return cn
	}
	return ""
}

// ValidIdentity accepts identities that can travel as one metadata value
// and be named in a policy (IdentityKindOf is not IdentityInvalid).
func ValidIdentity(id string) bool { return IdentityKindOf(id) != IdentityInvalid }

// IdentityKindOf classifies an identity by its spelling, the same way for
// a certificate and for a policy entry: printable ASCII without commas or
// leading/trailing spaces, at most 512 bytes (so the value is unambiguous
// and cannot inject into logs or metadata); then a URI identity if it
// starts with a URI scheme and ':', a CN identity if it has no ':' at all,
// and invalid otherwise (such as "host:8080", which is neither).
func IdentityKindOf(id string) IdentityKind {
	if id == "" || len(id) > 512 || id[0] == ' ' || id[len(id)-1] == ' ' {
		return IdentityInvalid
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < ' ' || c >= 0x7f || c == ',' {
			return IdentityInvalid
		}
	}
	colon := strings.IndexByte(id, ':')
	switch {
	case colon < 0:
		return IdentityCN
	case validScheme(id[:colon]) && colon+1 < len(id):
		return IdentityURI
	default:
		return IdentityInvalid
	}
}

// validScheme reports a URI scheme (RFC 3986: ALPHA *( ALPHA / DIGIT /
// "+" / "-" / "." )) of at least two letters, so a Windows-style "c:x"
// is not taken for one.
func validScheme(s string) bool {
	if len(s) < 2 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alpha := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !alpha && (i == 0 || !(c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}
