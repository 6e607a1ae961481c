package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/procore-directory/procore-directory/service/server"
	"github.com/procore-directory/procore-directory/upstream"
)

func TestParseOpsConfig(t *testing.T) {
	base := []string{"--upstream-url", "https://api.procore.com"}
	tests := []struct {
		name    string
		args    []string
		env     func(string) string
		want    OpsConfig
		wantErr string
	}{
		{
			name: "defaults",
			env:  env(),
			want: OpsConfig{PacingBurst: upstream.DefaultPacingBurst, Breaker: upstream.DefaultBreakerConfig(), GCPercent: DefaultGCPercent, StreamWorkers: server.DefaultStreamWorkers},
		},
		{
			name: "flags",
			args: []string{"--pacing-burst", "0", "--breaker-failures", "3", "--breaker-open-timeout", "5s", "--breaker-probes", "2", "--gc-percent", "-1", "--stream-workers", "0"},
			env:  env(),
			want: OpsConfig{PacingBurst: 0, Breaker: upstream.BreakerConfig{ConsecutiveFailures: 3, OpenTimeout: 5 * time.Second, HalfOpenRequests: 2}, GCPercent: -1, StreamWorkers: 0},
		},
		{
			name: "GOGC set: the runtime's reading wins",
			env:  env("GOGC", "200"),
			want: OpsConfig{PacingBurst: upstream.DefaultPacingBurst, Breaker: upstream.DefaultBreakerConfig(), GCPercent: DefaultGCPercent, StreamWorkers: server.DefaultStreamWorkers, GOGCFromEnv: true},
		},
		{
			name: "environment, and the standard OTLP variable",
			env: env("DIRECTORYD_PACING_BURST", "9", "DIRECTORYD_BREAKER_FAILURES", "0", "DIRECTORYD_BREAKER_OPEN_TIMEOUT", "1m",
				"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"),
			want: OpsConfig{PacingBurst: 9, Breaker: upstream.BreakerConfig{ConsecutiveFailures: 0, OpenTimeout: time.Minute, HalfOpenRequests: 1},
				OTLPEndpoint: "http://collector:4317", GCPercent: DefaultGCPercent, StreamWorkers: server.DefaultStreamWorkers},
		},
		{
			name: "the traces endpoint wins",
			env:  env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4317", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://b:4317"),
			want: OpsConfig{PacingBurst: upstream.DefaultPacingBurst, Breaker: upstream.DefaultBreakerConfig(), OTLPEndpoint: "http://b:4317", GCPercent: DefaultGCPercent, StreamWorkers: server.DefaultStreamWorkers},
		},
		{
			name: "debug address: an empty host is loopback",
			args: []string{"--debug-addr", ":6060"},
			env:  env(),
			want: OpsConfig{PacingBurst: upstream.DefaultPacingBurst, Breaker: upstream.DefaultBreakerConfig(), GCPercent: DefaultGCPercent, StreamWorkers: server.DefaultStreamWorkers, DebugAddr: "127.0.0.1:6060"},
		},
		{
			name: "debug address elsewhere, explicitly allowed",
			args: []string{"--debug-addr", "0.0.0.0:6060", "--debug-allow-remote"},
			env:  env(),
			want: OpsConfig{PacingBurst: upstream.DefaultPacingBurst, Breaker: upstream.DefaultBreakerConfig(), GCPercent: DefaultGCPercent, StreamWorkers: server.DefaultStreamWorkers, DebugAddr: "0.0.0.0:6060", DebugAllowRemote: true},
		},
		{name: "debug address not loopback", args: []string{"--debug-addr", "0.0.0.0:6060"}, env: env(), wantErr: "not a loopback address"},
		{name: "debug address by name", args: []string{"--debug-addr", "example.com:6060"}, env: env(), wantErr: "not a loopback address"},
		{name: "debug address without port", args: []string{"--debug-addr", "127.0.0.1"}, env: env(), wantErr: "--debug-addr"},
		{name: "remote allowed without an address", args: []string{"--debug-allow-remote"}, env: env(), wantErr: "--debug-allow-remote"},
		{name: "negative burst", args: []string{"--pacing-burst", "-1"}, env: env(), wantErr: "--pacing-burst"},
		{name: "negative failures", args: []string{"--breaker-failures", "-1"}, env: env(), wantErr: "--breaker-failures"},
		{name: "zero open timeout", args: []string{"--breaker-open-timeout", "0s"}, env: env(), wantErr: "--breaker-open-timeout"},
		{name: "no probes", args: []string{"--breaker-probes", "0"}, env: env(), wantErr: "--breaker-probes"},
		{name: "negative stream workers", args: []string{"--stream-workers", "-1"}, env: env(), wantErr: "--stream-workers"},
		{name: "zero GC percent", args: []string{"--gc-percent", "0"}, env: env(), wantErr: "--gc-percent"},
		{name: "GC percent below -1", args: []string{"--gc-percent", "-2"}, env: env(), wantErr: "--gc-percent"},
		{name: "bad OTLP endpoint", env: env("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317"), wantErr: "OTEL_EXPORTER_OTLP_ENDPOINT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseConfig(append(append([]string(nil), base...), tt.args...), tt.env, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Ops != tt.want {
				t.Fatalf("ops %+v, want %+v", cfg.Ops, tt.want)
			}
		})
	}
}
