package service

import (
	"context"
	"net"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// InProcessListener wraps the listener the REST gateway dials inside the
// process (a bufconn). Connections accepted through it are marked, and
// only marked connections may carry a forwarded caller identity
// (CallerIdentityHeader): the mark is a Go type no network peer can
// produce, unlike an address, a header or a port number.
func InProcessListener(l net.Listener) net.Listener { return inProcessListener{l} }

type inProcessListener struct{ net.Listener }

func (l inProcessListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return inProcessConn{c}, nil
}

// inProcessConn is a connection accepted by InProcessListener.
type inProcessConn struct{ net.Conn }

// inProcessAuthInfo is the credentials.AuthInfo of an in-process
// connection: the interceptor's proof that the call came from the gateway.
type inProcessAuthInfo struct{ credentials.CommonAuthInfo }

func (inProcessAuthInfo) AuthType() string { return "in-process" }

// ServerCredentials returns the gRPC server's transport credentials:
// network connections get tls (a TLS handshake; nil means plaintext),
// in-process connections from InProcessListener are let through as they
// are, marked as in-process. Every listener of one grpc.Server shares its
// credentials, so this is how the TCP port requires mutual TLS while the
// gateway's in-process connection needs none.
func ServerCredentials(tls credentials.TransportCredentials) credentials.TransportCredentials {
	if tls == nil {
		tls = insecure.NewCredentials()
	}
	return &serverCreds{TransportCredentials: tls}
}

type serverCreds struct {
	credentials.TransportCredentials
}

// ServerHandshake implements credentials.TransportCredentials.
func (c *serverCreds) ServerHandshake(conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	if _, ok := conn.(inProcessConn); ok {
		return conn, inProcessAuthInfo{credentials.CommonAuthInfo{SecurityLevel: credentials.PrivacyAndIntegrity}}, nil
	}
	return c.TransportCredentials.ServerHandshake(conn)
}

// ClientHandshake implements credentials.TransportCredentials.
func (c *serverCreds) ClientHandshake(ctx context.Context, authority string, conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return c.TransportCredentials.ClientHandshake(ctx, authority, conn)
}

// Clone implements credentials.TransportCredentials.
func (c *serverCreds) Clone() credentials.TransportCredentials {
	return &serverCreds{TransportCredentials: c.TransportCredentials.Clone()}
}
