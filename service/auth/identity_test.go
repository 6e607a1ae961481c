package auth

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"net/url"
	"testing"
)

func TestIdentityFromCertificate(t *testing.T) {
	uri := func(s string) *url.URL {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	tests := []struct {
		name string
		cert *x509.Certificate
		want string
	}{
		{name: "URI SAN wins over the CN", cert: &x509.Certificate{URIs: []*url.URL{uri("spiffe://corp.example/ns/hr/sa/hr-sync")}, Subject: pkix.Name{CommonName: "field-app"}}, want: "spiffe://corp.example/ns/hr/sa/hr-sync"},
		{name: "CN only", cert: &x509.Certificate{Subject: pkix.Name{CommonName: "field-app"}}, want: "field-app"},
		{name: "CN spelling a SPIFFE ID is no identity", cert: &x509.Certificate{Subject: pkix.Name{CommonName: "spiffe://corp.example/ns/hr/sa/hr-sync"}}},
		{name: "CN with a colon", cert: &x509.Certificate{Subject: pkix.Name{CommonName: "host:8080"}}},
		{name: "CN with a trailing space is not trimmed", cert: &x509.Certificate{Subject: pkix.Name{CommonName: "field-app "}}},
		{name: "CN with a leading space", cert: &x509.Certificate{Subject: pkix.Name{CommonName: " field-app"}}},
		{name: "CN with a tab", cert: &x509.Certificate{Subject: pkix.Name{CommonName: "field-app\t"}}},
		{name: "CN with a NUL", cert: &x509.Certificate{Subject: pkix.Name{CommonName: "field-app\x00"}}},
		{name: "CN with a newline", cert: &x509.Certificate{Subject: pkix.Name{CommonName: "field\napp"}}},
		{name: "CN with non-ASCII", cert: &x509.Certificate{Subject: pkix.Name{CommonName: "fíeld-app"}}},
		{name: "empty CN", cert: &x509.Certificate{}},
		{name: "URI SAN without a scheme does not pass for a CN", cert: &x509.Certificate{URIs: []*url.URL{uri("field-app")}, Subject: pkix.Name{CommonName: "field-app"}}},
		{name: "bad first URI SAN: no fall-back to the CN", cert: &x509.Certificate{URIs: []*url.URL{uri("spiffe://x/a%20b")}, Subject: pkix.Name{CommonName: "field-app"}}, want: "spiffe://x/a%20b"},
		{name: "nil", cert: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IdentityFromCertificate(tt.cert); got != tt.want {
				t.Errorf("IdentityFromCertificate = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestIdentityKindOf(t *testing.T) {
	tests := []struct {
		id   string
		want IdentityKind
	}{
		{"spiffe://corp.example/ns/hr/sa/hr-sync", IdentityURI},
		{"urn:example:hr-sync", IdentityURI},
		{"field-app", IdentityCN},
		{"field app", IdentityCN},
		{"field-app ", IdentityInvalid},
		{" field-app", IdentityInvalid},
		{"field-app\x7f", IdentityInvalid},
		{"a,b", IdentityInvalid},
		{"host:8080", IdentityURI}, // "host" is a valid scheme: a CN can never be spelled so
		{"8080:x", IdentityInvalid},
		{"c:x", IdentityInvalid},
		{"spiffe:", IdentityInvalid},
		{":x", IdentityInvalid},
		{"", IdentityInvalid},
	}
	for _, tt := range tests {
		if got := IdentityKindOf(tt.id); got != tt.want {
			t.Errorf("IdentityKindOf(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}
