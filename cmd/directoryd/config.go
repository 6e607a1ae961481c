package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/service/server"
)

// Auth modes: how directoryd authenticates to Procore.
const (
	authPassThrough       = "passthrough"
	authClientCredentials = "client-credentials"
)

// Config is directoryd's whole configuration. Every flag can also be set by
// an environment variable, DIRECTORYD_ and the flag's name in upper case
// with '-' as '_' (a flag on the command line wins); the Procore client
// credentials come only from PROCORE_CLIENT_ID and PROCORE_CLIENT_SECRET, so
// the secret never shows in a process listing.
type Config struct {
	GRPCAddr string
	HTTPAddr string
	// ProbeAddr is the plaintext listener of the orchestrator's probes
	// (server.Server.ServeProbes); empty: none.
	ProbeAddr      string
	UpstreamURL    string
	TokenURL       string
	Auth           string
	ClientID       string
	ClientSecret   string
	RequiredFields service.RequiredFieldsMode
	AdminFields    service.AdminFields
	Dev            bool
	// DevRateLimits keeps the dev emulator's Procore rate limits (3,600 an
	// hour, 25 per 10 s); --dev-rate-limits=false turns them off for load tests.
	DevRateLimits   bool
	LogLevel        slog.Level
	ShutdownTimeout time.Duration

	// Operations (operations.go).
	Ops OpsConfig
	// Callers: TLS, mutual TLS and the authorization policy (security.go).
	Security SecurityConfig
	// Limits on sizes, durations and upstream concurrency (limits.go).
	Limits server.Limits
	// State: the idempotency records (state.go).
	State StateConfig
	// Batch: BatchUpdateCompanyUsers and its operations (batch.go).
	Batch BatchConfig
	// Audit: the trail of every write (audit.go).
	Audit AuditConfig
}

// parseConfig reads flags from args and variables through getenv.
func parseConfig(args []string, getenv func(string) string, usage io.Writer) (Config, error) {
	var (
		cfg            Config
		requiredFields string
		adminFields    string
		logLevel       string
	)
	fs := flag.NewFlagSet("directoryd", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.StringVar(&cfg.GRPCAddr, "grpc-addr", ":9090", "gRPC listen address")
	fs.StringVar(&cfg.HTTPAddr, "http-addr", ":8080", "REST gateway listen address (also /openapi.json, /healthz, /readyz)")
	fs.StringVar(&cfg.ProbeAddr, "probe-addr", "", "plaintext listener for an orchestrator's probes, serving only grpc.health.v1 (h2c) and GET /healthz, /readyz, so they work when the API listeners require client certificates; empty: off")
	fs.StringVar(&cfg.UpstreamURL, "upstream-url", "", "Procore API base URL, e.g. https://api.procore.com (required unless --dev)")
	fs.StringVar(&cfg.TokenURL, "token-url", "", "Procore OAuth 2.0 token URL, e.g. https://login.procore.com/oauth/token (client-credentials mode)")
	fs.StringVar(&cfg.Auth, "auth", authPassThrough, "how to authenticate to Procore: passthrough (the caller's bearer token) or client-credentials (PROCORE_CLIENT_ID/PROCORE_CLIENT_SECRET)")
	fs.StringVar(&requiredFields, "required-fields", service.RequiredFieldsAuto.String(), "when a mask leaves out last_name/email_address: auto (send only masked fields; if Procore refuses, read and resend them unchanged, and remember the company), fill (always read and resend them unchanged), masked-only (send only masked fields) or reject (INVALID_ARGUMENT)")
	fs.StringVar(&adminFields, "admin-fields", service.AdminFieldsChanged.String(), "how Procore refuses the admin-only fields to a credential without Directory Admin: changed (only a changed value; email_address may be resent unchanged) or included (any request including one; email_address is then sent only when masked)")
	fs.BoolVar(&cfg.Dev, "dev", false, "development mode: start the built-in Procore emulator on loopback, use its admin client credentials, bind to loopback")
	fs.BoolVar(&cfg.DevRateLimits, "dev-rate-limits", true, "with --dev: the emulator enforces Procore's rate limits; false turns them off (load tests)")
	fs.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", DefaultShutdownTimeout, "how long a graceful shutdown lets calls in flight run to Procore's answer; then they are answered UNAVAILABLE; keep it above --call-timeout")
	cfg.Ops.register(fs)
	cfg.Security.register(fs)
	registerLimits(fs, &cfg.Limits)
	cfg.State.register(fs)
	cfg.Batch.register(fs)
	cfg.Audit.register(fs)

	// Environment first, so that flags given on the command line win.
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := "DIRECTORYD_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(name); v != "" {
			if err := f.Value.Set(v); err != nil {
				envErr = errors.Join(envErr, fmt.Errorf("%s=%q: %w", name, v, err))
			}
		}
	})
	if envErr != nil {
		return Config{}, envErr
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	cfg.ClientID = getenv("PROCORE_CLIENT_ID")
	cfg.ClientSecret = getenv("PROCORE_CLIENT_SECRET")
	cfg.State.RedisPassword = getenv("DIRECTORYD_REDIS_PASSWORD")
	cfg.Ops.readEnv(getenv)

	var err error
	if cfg.RequiredFields, err = service.ParseRequiredFieldsMode(requiredFields); err != nil {
		return Config{}, fmt.Errorf("--required-fields: %w", err)
	}
	if cfg.AdminFields, err = service.ParseAdminFields(adminFields); err != nil {
		return Config{}, fmt.Errorf("--admin-fields: %w", err)
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(logLevel)); err != nil {
		return Config{}, fmt.Errorf("--log-level: %w", err)
	}
	return cfg, cfg.validate()
}

// validate checks the combination of settings. In dev mode, the upstream
// and auth settings are the emulator's, and the listeners must be loopback.
func (c *Config) validate() error {
	if c.ShutdownTimeout <= 0 {
		return errors.New("--shutdown-timeout must be positive")
	}
	if err := errors.Join(c.Security.validate(), validateLimits(c.Limits), c.State.validate(), c.Batch.validate(),
		c.Audit.validate(c.State.RedisURL)); err != nil {
		return err
	}
	if err := c.Ops.validate(); err != nil {
		return err
	}
	if !c.Dev && !c.DevRateLimits {
		return errors.New("--dev-rate-limits applies only with --dev")
	}
	if c.Dev {
		if c.UpstreamURL != "" || c.TokenURL != "" {
			return errors.New("--dev runs against the built-in emulator: do not also set --upstream-url or --token-url")
		}
		var err error
		if c.GRPCAddr, err = loopback(c.GRPCAddr); err != nil {
			return fmt.Errorf("--grpc-addr: %w", err)
		}
		if c.HTTPAddr, err = loopback(c.HTTPAddr); err != nil {
			return fmt.Errorf("--http-addr: %w", err)
		}
		if c.ProbeAddr != "" {
			if c.ProbeAddr, err = loopback(c.ProbeAddr); err != nil {
				return fmt.Errorf("--probe-addr: %w", err)
			}
		}
		c.Auth = authClientCredentials
		return nil
	}
	if c.UpstreamURL == "" {
		return errors.New("no upstream: set --upstream-url (Procore's API base, e.g. https://api.procore.com) or use --dev to run against the built-in emulator")
	}
	if err := checkURL(c.UpstreamURL); err != nil {
		return fmt.Errorf("--upstream-url: %w", err)
	}
	switch c.Auth {
	case authPassThrough:
	case authClientCredentials:
		if c.TokenURL == "" {
			return errors.New("--auth=client-credentials needs --token-url (e.g. https://login.procore.com/oauth/token)")
		}
		if err := checkURL(c.TokenURL); err != nil {
			return fmt.Errorf("--token-url: %w", err)
		}
		if c.ClientID == "" || c.ClientSecret == "" {
			return errors.New("--auth=client-credentials needs PROCORE_CLIENT_ID and PROCORE_CLIENT_SECRET in the environment")
		}
	default:
		return fmt.Errorf("--auth=%q: want %s or %s", c.Auth, authPassThrough, authClientCredentials)
	}
	return c.Security.requireCallerAuth(c.Auth)
}

// loopback returns addr with an empty host made 127.0.0.1, and refuses any
// host that is not a loopback address.
func loopback(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if host == "" {
		host = "127.0.0.1"
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", fmt.Errorf("--dev only binds to loopback, not %q", host)
	}
	return net.JoinHostPort(host, port), nil
}

func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", raw)
	}
	return nil
}
