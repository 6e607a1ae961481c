package main

import (
	"errors"
	"flag"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    config
		wantErr bool
	}{
		{name: "defaults", args: nil, want: config{addr: "127.0.0.1:8081", hourlyLimit: 3600, spikeLimit: 25, tokenTTL: 5400 * time.Second}},
		{name: "all flags", args: []string{"--addr", "127.0.0.1:0", "--seed", "s.json", "--hourly-limit", "600", "--spike-limit", "0", "--partial-bodies",
			"--token-ttl", "1m", "--latency", "5ms", "--error-rate", "0.1", "--error-status", "503", "--drop-rate", "0.2", "--malformed-rate", "0.3", "--rand-seed", "7", "--log-level", "debug"},
			want: config{addr: "127.0.0.1:0", seedFile: "s.json", hourlyLimit: 600, spikeLimit: 0, partialBodies: true, tokenTTL: time.Minute,
				faults:   procoretest.Faults{Latency: 5 * time.Millisecond, ErrorRate: 0.1, ErrorStatus: 503, DropRate: 0.2, MalformedRate: 0.3},
				randSeed: 7, randSeedSet: true, logLevel: slog.LevelDebug}},
		{name: "rand seed zero is still set", args: []string{"--rand-seed=0"}, want: config{addr: "127.0.0.1:8081", hourlyLimit: 3600, spikeLimit: 25, tokenTTL: 5400 * time.Second, randSeedSet: true}},
		{name: "unknown flag", args: []string{"--nope"}, wantErr: true},
		{name: "stray argument", args: []string{"extra"}, wantErr: true},
		{name: "rate above one", args: []string{"--error-rate", "1.5"}, wantErr: true},
		{name: "negative drop rate", args: []string{"--drop-rate", "-0.1"}, wantErr: true},
		{name: "negative limit", args: []string{"--hourly-limit", "-1"}, wantErr: true},
		{name: "zero ttl", args: []string{"--token-ttl", "0s"}, wantErr: true},
		{name: "negative latency", args: []string{"--latency", "-1s"}, wantErr: true},
		{name: "bad duration", args: []string{"--token-ttl", "soon"}, wantErr: true},
		{name: "bad log level", args: []string{"--log-level", "loud"}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseConfig(tc.args, io.Discard)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && got != tc.want {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseConfigHelp(t *testing.T) {
	if _, err := parseConfig([]string{"-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err %v, want flag.ErrHelp", err)
	}
}

// TestOptionsBuildEmulator: every config the parser accepts builds.
func TestOptionsBuildEmulator(t *testing.T) {
	cfg, err := parseConfig([]string{"--partial-bodies", "--rand-seed", "3", "--error-rate", "0.5"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := procoretest.New(cfg.options(slog.New(slog.DiscardHandler))...); err != nil {
		t.Fatal(err)
	}
	cfg.seedFile = "/nonexistent/seed.json"
	if _, err := procoretest.New(cfg.options(slog.New(slog.DiscardHandler))...); err == nil {
		t.Fatal("missing seed file accepted")
	}
}
