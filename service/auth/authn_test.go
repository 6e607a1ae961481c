package auth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"net/url"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/procore-directory/procore-directory/service/inprocess"
)

func TestCallerAuthentication(t *testing.T) {
	spiffe, _ := url.Parse("spiffe://corp.example/hr-sync")
	withURI := &x509.Certificate{URIs: []*url.URL{spiffe}, Subject: pkix.Name{CommonName: "ignored"}}
	cnOnly := &x509.Certificate{Subject: pkix.Name{CommonName: "field-app"}}
	tlsInfo := func(verified bool, cert *x509.Certificate) credentials.AuthInfo {
		st := tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}}
		if verified {
			st.VerifiedChains = [][]*x509.Certificate{{cert}}
		}
		return credentials.TLSInfo{State: st}
	}
	tcp := &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 5555}
	const method = "/procore.directory.v1.DirectoryService/GetCompanyUser"
	tests := []struct {
		name      string
		authInfo  credentials.AuthInfo
		forwarded []string
		method    string
		wantID    string
		wantCode  codes.Code
	}{
		{name: "verified certificate with URI SAN", authInfo: tlsInfo(true, withURI), wantID: "spiffe://corp.example/hr-sync"},
		{name: "verified certificate with only CN", authInfo: tlsInfo(true, cnOnly), wantID: "field-app"},
		{name: "unverified certificate", authInfo: tlsInfo(false, withURI), wantCode: codes.Unauthenticated},
		{name: "TLS caller forging the header gets its own identity", authInfo: tlsInfo(true, cnOnly), forwarded: []string{"spiffe://corp.example/hr-sync"}, wantID: "field-app"},
		{name: "plaintext TCP caller forging the header", authInfo: plainAuthInfo{}, forwarded: []string{"spiffe://corp.example/hr-sync"}, wantCode: codes.Unauthenticated},
		{name: "no auth info forging the header", forwarded: []string{"spiffe://corp.example/hr-sync"}, wantCode: codes.Unauthenticated},
		{name: "gateway forwards identity in process", authInfo: inprocess.AuthInfo{}, forwarded: []string{"field-app"}, wantID: "field-app"},
		{name: "gateway call without identity", authInfo: inprocess.AuthInfo{}, wantCode: codes.Unauthenticated},
		{name: "two forwarded identities", authInfo: inprocess.AuthInfo{}, forwarded: []string{"a", "b"}, wantCode: codes.Unauthenticated},
		{name: "health needs no identity", method: "/grpc.health.v1.Health/Check"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &peer.Peer{Addr: tcp}
			p.AuthInfo = tt.authInfo
			ctx := peer.NewContext(context.Background(), p)
			md := metadata.MD{}
			for _, v := range tt.forwarded {
				md.Append(CallerIdentityHeader, v)
			}
			ctx = metadata.NewIncomingContext(ctx, md)
			m := tt.method
			if m == "" {
				m = method
			}
			var gotID string
			var sawHeader bool
			_, err := CallerAuthentication()(ctx, nil, &grpc.UnaryServerInfo{FullMethod: m}, func(ctx context.Context, _ any) (any, error) {
				c, _ := CallerFromContext(ctx)
				gotID = c.ID
				in, _ := metadata.FromIncomingContext(ctx)
				sawHeader = len(in.Get(CallerIdentityHeader)) > 0
				return nil, nil
			})
			if status.Code(err) != tt.wantCode {
				t.Fatalf("code %v (%v), want %v", status.Code(err), err, tt.wantCode)
			}
			if gotID != tt.wantID {
				t.Errorf("caller %q, want %q", gotID, tt.wantID)
			}
			if sawHeader {
				t.Error("the handler saw the forwarded identity header")
			}
		})
	}
}

// plainAuthInfo is what a plaintext network connection looks like.
type plainAuthInfo struct{ credentials.CommonAuthInfo }

func (plainAuthInfo) AuthType() string { return "insecure" }
