package main

import (
	"errors"
	"flag"
	"log/slog"
	"time"

	"google.golang.org/grpc/credentials"

	"github.com/procore-directory/procore-directory/service/auth"
	"github.com/procore-directory/procore-directory/service/server"
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
	// Policy is the authorization policy file (auth.Policy).
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

// apply loads the certificates and the policy into cfg, failing with
// errors that name the file.
func (s SecurityConfig) apply(cfg *server.Config, log *slog.Logger) error {
	if s.TLSCert != "" {
		r, err := newCertReloader(s.TLSCert, s.TLSKey, s.ClientCA, log, time.Now)
		if err != nil {
			return err
		}
		cfg.GRPCCredentials = credentials.NewTLS(r.serverConfig("h2"))
		cfg.HTTPTLS = r.serverConfig("h2", "http/1.1")
		cfg.MutualTLS = s.ClientCA != ""
	}
	if s.Policy != "" {
		p, err := auth.LoadPolicy(s.Policy)
		if err != nil {
			return err
		}
		log.Info("authorization policy loaded", "file", s.Policy, "callers", p.Len())
		cfg.Authorizer = p
	}
	return nil
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
