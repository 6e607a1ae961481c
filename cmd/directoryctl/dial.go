package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/procore-directory/procore-directory/client"
)

// tokenEnv holds the Procore access token for directoryd's pass-through
// mode: a secret, so an environment variable, never a flag (a flag shows
// in a process listing).
const tokenEnv = "PROCORE_ACCESS_TOKEN"

// connFlags are how directoryctl reaches directoryd, named as grpcurl's
// flags are, so that the README's grpcurl commands translate word for
// word: -plaintext for `directoryd --dev`, TLS otherwise (the system's
// roots, or -cacert), with -cert and -key for mutual TLS.
type connFlags struct {
	addr, cacert, cert, key, servername string
	plaintext                           bool
}

func (c *connFlags) validate() error {
	switch {
	case c.addr == "":
		return errors.New("--addr is empty")
	case c.plaintext && (c.cacert != "" || c.cert != "" || c.key != "" || c.servername != ""):
		return errors.New("--plaintext excludes --cacert, --cert, --key and --servername")
	case (c.cert == "") != (c.key == ""):
		return errors.New("--cert and --key go together (mutual TLS)")
	}
	return nil
}

// dial opens the connection (lazily: the first call connects) with the
// client package's recipe (service config and request ids).
func dial(c connFlags, token string) (*grpc.ClientConn, error) {
	creds := insecure.NewCredentials()
	if !c.plaintext {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.servername}
		if c.cacert != "" {
			pem, err := os.ReadFile(c.cacert)
			if err != nil {
				return nil, fmt.Errorf("--cacert: %w", err)
			}
			cfg.RootCAs = x509.NewCertPool()
			if !cfg.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("--cacert %s: no PEM certificate in it", c.cacert)
			}
		}
		if c.cert != "" {
			pair, err := tls.LoadX509KeyPair(c.cert, c.key)
			if err != nil {
				return nil, fmt.Errorf("--cert, --key: %w", err)
			}
			cfg.Certificates = []tls.Certificate{pair}
		}
		creds = credentials.NewTLS(cfg)
	}
	opts := append(client.DialOptions(), grpc.WithTransportCredentials(creds))
	if token != "" {
		opts = append(opts, grpc.WithChainUnaryInterceptor(bearer(token)))
	}
	return grpc.NewClient(c.addr, opts...)
}

// bearer sends the pass-through token as `authorization: Bearer`.
func bearer(token string) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		return invoker(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token), method, req, reply, cc, opts...)
	}
}
