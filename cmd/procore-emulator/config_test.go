package main

import (
	"errors"
	"flag"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

// defaults is the config of an empty command line, changed by edit.
func defaults(edit func(*config)) config {
	c := config{addr: "127.0.0.1:8081", hourlyLimit: 3600, spikeLimit: 25, tokenTTL: 5400 * time.Second,
		adminFields: procoretest.AdminFieldsChanged, responseShape: procoretest.ResponseShapePublished, errorBody: procoretest.ErrorBodyRails, nullClears: true,
		sync: procoretest.SyncAllowed, syncOrder: procoretest.SyncOrderInput, syncAllFailed: 200, syncMaxItems: 1000}
	if edit != nil {
		edit(&c)
	}
	return c
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    config
		wantErr bool
	}{
		{name: "defaults", args: nil, want: defaults(nil)},
		{name: "all flags", args: []string{"--addr", "127.0.0.1:0", "--seed", "s.json", "--hourly-limit", "600", "--spike-limit", "0", "--partial-bodies",
			"--token-ttl", "1m", "--latency", "5ms", "--error-rate", "0.1", "--error-status", "503", "--drop-rate", "0.2", "--malformed-rate", "0.3", "--rand-seed", "7", "--log-level", "debug",
			"--admin-fields", "included", "--response-shape", "extended", "--error-body", "flat", "--null-clears=false",
			"--sync", "forbidden", "--sync-order", "shuffled", "--sync-all-failed-status", "422", "--sync-max-items", "50"},
			want: config{addr: "127.0.0.1:0", seedFile: "s.json", hourlyLimit: 600, spikeLimit: 0, partialBodies: true, tokenTTL: time.Minute,
				faults:   procoretest.Faults{Latency: 5 * time.Millisecond, ErrorRate: 0.1, ErrorStatus: 503, DropRate: 0.2, MalformedRate: 0.3},
				randSeed: 7, randSeedSet: true, logLevel: slog.LevelDebug,
				adminFields: procoretest.AdminFieldsIncluded, responseShape: procoretest.ResponseShapeExtended, errorBody: procoretest.ErrorBodyFlat, nullClears: false,
				sync: procoretest.SyncForbidden, syncOrder: procoretest.SyncOrderShuffled, syncAllFailed: 422, syncMaxItems: 50}},
		{name: "rand seed zero is still set", args: []string{"--rand-seed=0"}, want: defaults(func(c *config) { c.randSeedSet = true })},
		{name: "explicit published defaults", args: []string{"--admin-fields=changed", "--response-shape=published", "--error-body=rails", "--null-clears=true"}, want: defaults(nil)},
		{name: "bad admin fields", args: []string{"--admin-fields", "always"}, wantErr: true},
		{name: "bad response shape", args: []string{"--response-shape", "full"}, wantErr: true},
		{name: "bad error body", args: []string{"--error-body", "json"}, wantErr: true},
		{name: "bad null clears", args: []string{"--null-clears=maybe"}, wantErr: true},
		{name: "sync absent", args: []string{"--sync=absent"}, want: defaults(func(c *config) { c.sync = procoretest.SyncAbsent })},
		{name: "sync reversed", args: []string{"--sync-order=reversed"}, want: defaults(func(c *config) { c.syncOrder = procoretest.SyncOrderReversed })},
		{name: "explicit sync defaults", args: []string{"--sync=allowed", "--sync-order=input", "--sync-all-failed-status=200", "--sync-max-items=1000"}, want: defaults(nil)},
		{name: "bad sync", args: []string{"--sync", "maybe"}, wantErr: true},
		{name: "bad sync order", args: []string{"--sync-order", "sorted"}, wantErr: true},
		{name: "bad all-failed status", args: []string{"--sync-all-failed-status", "500"}, wantErr: true},
		{name: "zero sync max items", args: []string{"--sync-max-items", "0"}, wantErr: true},
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
	var out strings.Builder
	if _, err := parseConfig([]string{"-h"}, &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err %v, want flag.ErrHelp", err)
	}
	for _, want := range []string{"-admin-fields value", "(default changed)", "-response-shape value", "(default published)",
		"-error-body value", "(default rails)", "-null-clears", "can't be null",
		"-sync value", "(default allowed)", "-sync-order value", "(default input)", "-sync-all-failed-status", "(default 200)", "-sync-max-items"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--help lacks %q:\n%s", want, out.String())
		}
	}
}

// TestOptionsBuildEmulator: every config the parser accepts builds.
func TestOptionsBuildEmulator(t *testing.T) {
	cfg, err := parseConfig([]string{"--partial-bodies", "--rand-seed", "3", "--error-rate", "0.5", "--sync=absent", "--sync-order=reversed", "--sync-all-failed-status=422"}, io.Discard)
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
