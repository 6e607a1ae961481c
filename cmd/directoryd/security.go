package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"log/slog"
	"net"
	"net/http"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/procore-directory/procore-directory/service"
)

// SecurityConfig is how directoryd proves itself to callers and callers to
// it: TLS on both listeners, mutual TLS (caller identity) and the
// authorization policy of client-credentials mode.
type SecurityConfig struct {
	// TLSCert and TLSKey are the server certificate and key files (PEM),
	// reloaded when they change; empty: plaintext listeners.
	TLSCert, TLSKey string
	// ClientCA is the CA bundle (PEM) client certificates must chain to;
	// set, both listeners require one (mutual TLS), and the caller's
	// identity is its URI SAN, else its CN.
	ClientCA string
	// Policy is the authorization policy file (service.Policy).
	Policy string
}

// register adds the security flags (each also DIRECTORYD_<FLAG>).
func (s *SecurityConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&s.TLSCert, "tls-cert", "", "server certificate file (PEM) of both listeners; reloaded when it changes")
	fs.StringVar(&s.TLSKey, "tls-key", "", "server private key file (PEM) of --tls-cert; reloaded when it changes")
	fs.StringVar(&s.ClientCA, "client-ca", "", "CA bundle (PEM) that callers' client certificates must chain to: mutual TLS on both listeners, caller identity = URI SAN (e.g. SPIFFE ID), else CN")
	fs.StringVar(&s.Policy, "policy", "", "authorization policy file (YAML or JSON): which caller identities may touch which companies and change directory-admin-only fields")
}

// validate checks the combination of the security flags.
func (s *SecurityConfig) validate() error {
	switch {
	case (s.TLSCert == "") != (s.TLSKey == ""):
		return errors.New("--tls-cert and --tls-key go together")
	case s.ClientCA != "" && s.TLSCert == "":
		return errors.New("--client-ca needs --tls-cert and --tls-key: client certificates are checked during the TLS handshake")
	case s.Policy != "" && s.ClientCA == "":
		return errors.New("--policy needs --client-ca: the policy names callers by their client certificate")
	}
	return nil
}

// requireCallerAuth is checked outside --dev (which binds only to
// loopback): client-credentials mode holds a credential that may carry
// Directory Admin rights, so it refuses to run without knowing who calls
// and what they may do.
func (s *SecurityConfig) requireCallerAuth(auth string) error {
	if auth == authClientCredentials && (s.ClientCA == "" || s.Policy == "") {
		return errors.New("--auth=client-credentials needs caller authentication and authorization: set --tls-cert, --tls-key, --client-ca and --policy (only --dev, on loopback, runs without)")
	}
	return nil
}

// security is the configuration made ready to serve.
type security struct {
	grpcCreds  credentials.TransportCredentials // nil: plaintext gRPC
	httpTLS    *tls.Config                      // nil: plaintext HTTP
	authorizer service.Authorizer               // nil: none
	mutual     bool
}

// newSecurity loads the certificates and the policy, failing with errors
// that name the file.
func newSecurity(s SecurityConfig, log *slog.Logger) (*security, error) {
	sec := &security{}
	if s.TLSCert != "" {
		r, err := newCertReloader(s.TLSCert, s.TLSKey, s.ClientCA, log, time.Now)
		if err != nil {
			return nil, err
		}
		sec.grpcCreds = credentials.NewTLS(r.serverConfig("h2"))
		sec.httpTLS = r.serverConfig("h2", "http/1.1")
		sec.mutual = s.ClientCA != ""
	}
	if s.Policy != "" {
		p, err := service.LoadPolicy(s.Policy)
		if err != nil {
			return nil, err
		}
		log.Info("authorization policy loaded", "file", s.Policy, "callers", p.Len())
		sec.authorizer = p
	}
	return sec, nil
}

// serviceOptions enforce the policy in the service.
func (sec *security) serviceOptions() []service.Option {
	if sec.authorizer == nil {
		return nil
	}
	return []service.Option{service.WithAuthorizer(sec.authorizer)}
}

// serverOptions install the credentials and, with mutual TLS, the caller
// authentication interceptor.
func (sec *security) serverOptions() []service.ServerOption {
	var opts []service.ServerOption
	if sec.grpcCreds != nil {
		opts = append(opts, service.WithGRPCOptions(grpc.Creds(sec.grpcCreds)))
	}
	if sec.mutual {
		opts = append(opts, service.WithUnaryInterceptors(service.CallerAuthentication()))
	}
	return opts
}

// gatewayOptions forward the HTTP caller's verified identity (and always
// strip forged ones).
func (sec *security) gatewayOptions() []service.GatewayOption {
	return []service.GatewayOption{service.WithGatewayCallerIdentity()}
}

// describe is for the start-up log line.
func (s SecurityConfig) describe() string {
	switch {
	case s.ClientCA != "":
		return "mutual-tls"
	case s.TLSCert != "":
		return "tls"
	default:
		return "plaintext"
	}
}

// serveHTTP serves srv on l, over TLS when srv.TLSConfig is set (the
// certificate comes from its GetConfigForClient).
func serveHTTP(srv *http.Server, l net.Listener) error {
	if srv.TLSConfig == nil {
		return srv.Serve(l)
	}
	return srv.ServeTLS(l, "", "")
}
