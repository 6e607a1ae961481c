package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/procore-directory/procore-directory/service/server"
)

func TestParseSecurityAndLimitsConfig(t *testing.T) {
	up := []string{"--upstream-url", "https://x.example"}
	cc := append(append([]string{}, up...), "--auth", "client-credentials", "--token-url", "https://login.example/oauth/token")
	secrets := env("PROCORE_CLIENT_ID", "id", "PROCORE_CLIENT_SECRET", "s")
	mtls := []string{"--tls-cert", "c.pem", "--tls-key", "k.pem", "--client-ca", "ca.pem", "--policy", "p.yaml"}
	tests := []struct {
		name    string
		args    []string
		env     func(string) string
		check   func(t *testing.T, c Config)
		wantErr string
	}{
		{name: "limit defaults", args: up, env: env(), check: func(t *testing.T, c Config) {
			want := server.DefaultConfig().Limits
			if c.Limits != want || c.Security != (SecurityConfig{}) {
				t.Errorf("%+v %+v", c.Limits, c.Security)
			}
		}},
		{name: "limits from flags and environment", args: append(append([]string{}, up...), "--call-timeout", "5s", "--max-concurrent-upstream", "4"),
			env: env("DIRECTORYD_MAX_RECV_MSG_SIZE", "20000000", "DIRECTORYD_UPSTREAM_QUEUE_TIMEOUT", "250ms", "DIRECTORYD_MAX_HEADER_BYTES", "16384", "DIRECTORYD_MAX_HEADER_LIST_SIZE", "32768"),
			check: func(t *testing.T, c Config) {
				l := c.Limits
				if l.CallTimeout != 5*time.Second || l.MaxConcurrentUpstream != 4 || l.MaxRecvMsgSize != 20000000 || l.UpstreamQueueTimeout != 250*time.Millisecond || l.MaxHeaderBytes != 16384 || l.MaxHeaderListSize != 32768 {
					t.Errorf("%+v", l)
				}
			}},
		{name: "listener limits from flags and environment", args: append(append([]string{}, up...), "--http-read-timeout", "20s", "--grpc-max-concurrent-streams", "7", "--grpc-keepalive-permit-without-stream"),
			env: env("DIRECTORYD_MAX_WATCH_STREAMS", "9", "DIRECTORYD_HTTP_IDLE_TIMEOUT", "4s", "DIRECTORYD_UPSTREAM_MAX_RESPONSE_HEADER_BYTES", "8192", "DIRECTORYD_GRPC_MAX_CONNECTION_IDLE", "1m"),
			check: func(t *testing.T, c Config) {
				l := c.Limits
				if l.HTTPReadTimeout != 20*time.Second || l.GRPCMaxConcurrentStreams != 7 || !l.GRPCKeepalivePermitWithoutStream || l.MaxWatchStreams != 9 ||
					l.HTTPIdleTimeout != 4*time.Second || l.UpstreamMaxResponseHeaderBytes != 8192 || l.GRPCMaxConnectionIdle != time.Minute {
					t.Errorf("%+v", l)
				}
			}},
		{name: "read timeout shorter than the header's", args: append(append([]string{}, up...), "--http-read-timeout", "1s", "--http-read-header-timeout", "2s"), env: env(), wantErr: "--http-read-timeout"},
		{name: "no gRPC streams", args: append(append([]string{}, up...), "--grpc-max-concurrent-streams", "0"), env: env(), wantErr: "must be positive"},
		{name: "no Watch streams", args: append(append([]string{}, up...), "--max-watch-streams", "0"), env: env(), wantErr: "--max-watch-streams"},
		{name: "tiny upstream header limit", args: append(append([]string{}, up...), "--upstream-max-response-header-bytes", "100"), env: env(), wantErr: "--upstream-max-response-header-bytes"},
		{name: "security from environment", args: cc, env: env("PROCORE_CLIENT_ID", "id", "PROCORE_CLIENT_SECRET", "s",
			"DIRECTORYD_TLS_CERT", "c.pem", "DIRECTORYD_TLS_KEY", "k.pem", "DIRECTORYD_CLIENT_CA", "ca.pem", "DIRECTORYD_POLICY", "p.yaml"),
			check: func(t *testing.T, c Config) {
				if c.Security != (SecurityConfig{TLSCert: "c.pem", TLSKey: "k.pem", ClientCA: "ca.pem", Policy: "p.yaml"}) {
					t.Errorf("%+v", c.Security)
				}
			}},
		{name: "client credentials without caller authentication", args: cc, env: secrets, wantErr: "needs caller authentication"},
		{name: "client credentials with TLS but no policy", args: append(append([]string{}, cc...), mtls[:6]...), env: secrets, wantErr: "--policy"},
		{name: "dev needs no caller authentication", args: []string{"--dev"}, env: env(), check: func(t *testing.T, c Config) {}},
		{name: "cert without key", args: append(append([]string{}, up...), "--tls-cert", "c.pem"), env: env(), wantErr: "--tls-cert and --tls-key go together"},
		{name: "client CA without TLS", args: append(append([]string{}, up...), "--client-ca", "ca.pem"), env: env(), wantErr: "--client-ca needs --tls-cert"},
		{name: "policy without client CA", args: append(append([]string{}, up...), "--tls-cert", "c", "--tls-key", "k", "--policy", "p"), env: env(), wantErr: "--policy needs --client-ca"},
		{name: "zero call timeout", args: append(append([]string{}, up...), "--call-timeout", "0s"), env: env(), wantErr: "--call-timeout"},
		{name: "tiny receive size", args: append(append([]string{}, up...), "--max-recv-msg-size", "1000"), env: env(), wantErr: "--max-recv-msg-size"},
		{name: "tiny header list", args: append(append([]string{}, up...), "--max-header-list-size", "100"), env: env(), wantErr: "--max-header-list-size"},
		{name: "tiny HTTP header", args: append(append([]string{}, up...), "--max-header-bytes", "100"), env: env(), wantErr: "--max-header-bytes"},
		{name: "negative concurrency", args: append(append([]string{}, up...), "--max-concurrent-upstream", "-1"), env: env(), wantErr: "--max-concurrent-upstream"},
		{name: "zero queue timeout", args: append(append([]string{}, up...), "--upstream-queue-timeout", "0s"), env: env(), wantErr: "--upstream-queue-timeout"},
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

func TestRunRefusesBadSecurityFiles(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, "CA")
	cert, key := ca.issue(t, "s", "", true)
	files := []string{"--tls-cert", writeFile(t, dir, "c", cert), "--tls-key", writeFile(t, dir, "k", key), "--client-ca", writeFile(t, dir, "ca", ca.pem)}
	tests := []struct{ name, policy, want string }{
		{name: "policy with an unknown key", policy: "callers:\n  - identity: a\n    companys: [1]\n", want: "line 3: field companys not found"},
		{name: "policy without callers", policy: "callers: []\n", want: "no callers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(append([]string{"--upstream-url", "http://127.0.0.1:1", "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"}, files...), "--policy", writeFile(t, dir, "p.yaml", []byte(tt.policy)))
			cfg, err := parseConfig(args, env(), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			err = run(t.Context(), cfg, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run: %v, want an error naming %q", err, tt.want)
			}
		})
	}
}
