package main

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/procore-directory/procore-directory/service"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     func(string) string
		check   func(t *testing.T, c Config)
		wantErr string
	}{
		{
			name: "defaults with upstream",
			args: []string{"--upstream-url", "https://api.procore.com"},
			env:  env(),
			check: func(t *testing.T, c Config) {
				if c.GRPCAddr != ":9090" || c.HTTPAddr != ":8080" || c.Auth != authPassThrough ||
					c.RequiredFields != service.RequiredFieldsAuto || c.AdminFields != service.AdminFieldsChanged || c.LogLevel != slog.LevelInfo || c.ShutdownTimeout != 35*time.Second || c.ShutdownTimeout <= c.Limits.CallTimeout ||
					c.State.IdempotencyRetention != 24*time.Hour {
					t.Errorf("defaults: %+v", c)
				}
			},
		},
		{name: "no upstream and no dev", args: nil, env: env(), wantErr: "no upstream: set --upstream-url"},
		{name: "bad upstream url", args: []string{"--upstream-url", "api.procore.com"}, env: env(), wantErr: "not an http(s) URL"},
		{
			name: "environment sets flags",
			args: nil,
			env:  env("DIRECTORYD_UPSTREAM_URL", "https://sandbox.procore.com", "DIRECTORYD_GRPC_ADDR", ":7000", "DIRECTORYD_REQUIRED_FIELDS", "reject", "DIRECTORYD_LOG_LEVEL", "debug"),
			check: func(t *testing.T, c Config) {
				if c.UpstreamURL != "https://sandbox.procore.com" || c.GRPCAddr != ":7000" || c.RequiredFields != service.RequiredFieldsReject || c.LogLevel != slog.LevelDebug {
					t.Errorf("%+v", c)
				}
			},
		},
		{
			name: "flag beats environment",
			args: []string{"--grpc-addr", ":7001"},
			env:  env("DIRECTORYD_UPSTREAM_URL", "https://sandbox.procore.com", "DIRECTORYD_GRPC_ADDR", ":7000"),
			check: func(t *testing.T, c Config) {
				if c.GRPCAddr != ":7001" {
					t.Errorf("grpc addr %q", c.GRPCAddr)
				}
			},
		},
		{name: "bad env value", args: nil, env: env("DIRECTORYD_DEV", "maybe"), wantErr: "DIRECTORYD_DEV"},
		{
			name: "admin fields included",
			args: []string{"--dev", "--admin-fields", "included"},
			env:  env(),
			check: func(t *testing.T, c Config) {
				if c.AdminFields != service.AdminFieldsIncluded {
					t.Errorf("admin fields %v", c.AdminFields)
				}
			},
		},
		{name: "bad admin-fields", args: []string{"--dev", "--admin-fields", "sometimes"}, env: env(), wantErr: "--admin-fields"},
		{name: "bad required-fields", args: []string{"--dev", "--required-fields", "sometimes"}, env: env(), wantErr: "--required-fields"},
		{name: "bad auth", args: []string{"--upstream-url", "https://x.example", "--auth", "magic"}, env: env(), wantErr: `--auth="magic"`},
		{name: "client credentials without token url", args: []string{"--upstream-url", "https://x.example", "--auth", "client-credentials"}, env: env(), wantErr: "--token-url"},
		{name: "client credentials without secret", args: []string{"--upstream-url", "https://x.example", "--auth", "client-credentials", "--token-url", "https://login.example/oauth/token"}, env: env("PROCORE_CLIENT_ID", "id"), wantErr: "PROCORE_CLIENT_SECRET"},
		{
			name: "client credentials",
			args: []string{"--upstream-url", "https://x.example", "--auth", "client-credentials", "--token-url", "https://login.example/oauth/token",
				"--tls-cert", "c.pem", "--tls-key", "k.pem", "--client-ca", "ca.pem", "--policy", "p.yaml"},
			env: env("PROCORE_CLIENT_ID", "id", "PROCORE_CLIENT_SECRET", "s3cret"),
			check: func(t *testing.T, c Config) {
				if c.ClientID != "id" || c.ClientSecret != "s3cret" || c.Auth != authClientCredentials {
					t.Errorf("%+v", c)
				}
			},
		},
		{
			name: "dev binds loopback",
			args: []string{"--dev"},
			env:  env(),
			check: func(t *testing.T, c Config) {
				if c.GRPCAddr != "127.0.0.1:9090" || c.HTTPAddr != "127.0.0.1:8080" || c.Auth != authClientCredentials {
					t.Errorf("%+v", c)
				}
			},
		},
		{name: "dev refuses public address", args: []string{"--dev", "--grpc-addr", "0.0.0.0:9090"}, env: env(), wantErr: "only binds to loopback"},
		{name: "dev refuses upstream", args: []string{"--dev", "--upstream-url", "https://api.procore.com"}, env: env(), wantErr: "do not also set --upstream-url"},
		{
			name: "dev rate limits on by default, off on request",
			args: []string{"--dev", "--dev-rate-limits=false"},
			env:  env(),
			check: func(t *testing.T, c Config) {
				if c.DevRateLimits {
					t.Errorf("--dev-rate-limits=false: %+v", c)
				}
				d, err := parseConfig([]string{"--dev"}, env(), io.Discard)
				if err != nil || !d.DevRateLimits {
					t.Errorf("--dev alone: rate limits %v, err %v", d.DevRateLimits, err)
				}
			},
		},
		{name: "dev rate limits only with dev", args: []string{"--upstream-url", "https://x.example", "--dev-rate-limits=false"}, env: env(), wantErr: "--dev-rate-limits applies only with --dev"},
		{name: "stray argument", args: []string{"--dev", "extra"}, env: env(), wantErr: "unexpected arguments"},
		{name: "bad log level", args: []string{"--dev", "--log-level", "chatty"}, env: env(), wantErr: "--log-level"},
		{name: "bad shutdown timeout", args: []string{"--dev", "--shutdown-timeout", "0s"}, env: env(), wantErr: "--shutdown-timeout"},
		{
			// The tests' own redis-server listens only on a Unix socket.
			name: "redis url on a unix socket",
			args: []string{"--upstream-url", "https://x.example", "--redis-url", "unix:///run/redis/redis.sock?db=0"},
			env:  env(),
			check: func(t *testing.T, c Config) {
				if c.State.RedisURL != "unix:///run/redis/redis.sock?db=0" {
					t.Errorf("redis url %q", c.State.RedisURL)
				}
			},
		},
		{name: "bad redis url", args: []string{"--upstream-url", "https://x.example", "--redis-url", "memcached://x:11211"}, env: env(), wantErr: "--redis-url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseConfig(tt.args, tt.env, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}
