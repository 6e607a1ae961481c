package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// signed is a certificate made in the test, with its key and PEM files.
type signed struct {
	cert     *x509.Certificate
	key      *ecdsa.PrivateKey
	tls      tls.Certificate
	certFile string
	keyFile  string
}

// sign makes a certificate from tmpl, signed by parent (self-signed when
// nil), and writes its PEM files into dir.
func sign(t *testing.T, dir, name string, tmpl *x509.Certificate, parent *signed) *signed {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
	tmpl.Subject = pkix.Name{CommonName: name}
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	issuer, issuerKey := tmpl, key
	if parent != nil {
		issuer, issuerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, &key.PublicKey, issuerKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	s := &signed{key: key, certFile: filepath.Join(dir, name+".pem"), keyFile: filepath.Join(dir, name+"-key.pem")}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	if s.cert, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	if s.tls, err = tls.X509KeyPair(certPEM, keyPEM); err != nil {
		t.Fatal(err)
	}
	for file, data := range map[string][]byte{s.certFile: certPEM, s.keyFile: keyPEM} {
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// TestBatchProcessMutualTLS: against a server that requires a client
// certificate, --cacert, --cert and --key connect as grpcurl's flags of the
// same names do; without the client certificate, without the CA, or in
// plaintext, the call fails (exit 3), and contradictory flags are usage
// errors (exit 2). The pass-through token goes from PROCORE_ACCESS_TOKEN
// to the authorization metadata.
func TestBatchProcessMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca := sign(t, dir, "ca", &x509.Certificate{IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}, nil)
	server := sign(t, dir, "server", &x509.Certificate{IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, ca)
	caller := sign(t, dir, "caller", &x509.Certificate{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, ca)
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	srv, addr := serveBatch(t, grpc.Creds(credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{server.tls}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12,
	})))
	if err := os.WriteFile(filepath.Join(dir, "u.csv"), []byte("id,job_title\n1,Lead\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		flags    []string
		wantCode int
		wantErr  string
	}{
		{"mutual TLS", []string{"--cacert", ca.certFile, "--cert", caller.certFile, "--key", caller.keyFile}, 0, "1 updated"},
		{"no client certificate", []string{"--cacert", ca.certFile}, 3, "UNAVAILABLE"},
		{"the system's roots do not know the CA", []string{"--cert", caller.certFile, "--key", caller.keyFile}, 3, "UNAVAILABLE"},
		{"plaintext against TLS", []string{"--plaintext"}, 3, "UNAVAILABLE"},
		{"--cert without --key", []string{"--cacert", ca.certFile, "--cert", caller.certFile}, 2, "--cert and --key go together"},
		{"--plaintext with --cacert", []string{"--plaintext", "--cacert", ca.certFile}, 2, "--plaintext excludes"},
		{"--cacert without a certificate", []string{"--cacert", caller.keyFile}, 2, "no PEM certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"batch", "--addr", addr, "--company-id", "8089"}, tt.flags...)
			code, _, stderr := ctlEnv(t, dir, []string{tokenEnv + "=tok-123"}, append(args, "u.csv")...)
			if code != tt.wantCode || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("exit %d, want %d with %q; stderr:\n%s", code, tt.wantCode, tt.wantErr, stderr)
			}
			if tt.wantCode == 0 {
				if got, _ := srv.auth.Load().(string); got != "Bearer tok-123" {
					t.Errorf("authorization %q, want the token from %s", got, tokenEnv)
				}
			}
		})
	}
}
