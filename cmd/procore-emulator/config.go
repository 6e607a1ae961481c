package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

// config is the parsed command line. Parsing is separate from main so the
// flag surface is unit-tested without starting a process.
type config struct {
	addr          string
	seedFile      string
	hourlyLimit   int
	spikeLimit    int
	partialBodies bool
	tokenTTL      time.Duration
	faults        procoretest.Faults
	randSeed      int64
	randSeedSet   bool
	logLevel      slog.Level
	adminFields   procoretest.AdminFields
	responseShape procoretest.ResponseShape
	errorBody     procoretest.ErrorBody
	nullClears    bool
	sync          procoretest.SyncMode
	syncOrder     procoretest.SyncOrder
	syncAllFailed int
	syncMaxItems  int
}

// parseConfig parses args (without the program name). Usage and errors go
// to errOut; -h gives flag.ErrHelp.
func parseConfig(args []string, errOut io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("procore-emulator", flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8081", "listen address; port 0 picks a free port")
	fs.StringVar(&c.seedFile, "seed", "", "seed fixture JSON file (default: the built-in seed)")
	fs.IntVar(&c.hourlyLimit, "hourly-limit", 3600, "requests per token per hour; 0 = off")
	fs.IntVar(&c.spikeLimit, "spike-limit", 25, "requests per token per 10 seconds; 0 = off")
	fs.BoolVar(&c.partialBodies, "partial-bodies", false, "accept PATCH bodies without last_name/email_address")
	fs.DurationVar(&c.tokenTTL, "token-ttl", 5400*time.Second, "access token lifetime")
	fs.DurationVar(&c.faults.Latency, "latency", 0, "latency added to every API request")
	fs.Float64Var(&c.faults.ErrorRate, "error-rate", 0, "share of API requests answered 5xx (0..1)")
	fs.IntVar(&c.faults.ErrorStatus, "error-status", 0, "fixed status for --error-rate (default: random 500/502/503/504)")
	fs.Float64Var(&c.faults.DropRate, "drop-rate", 0, "share of API requests whose connection is dropped (0..1)")
	fs.Float64Var(&c.faults.MalformedRate, "malformed-rate", 0, "share of API requests answered 200 with truncated JSON (0..1)")
	fs.Int64Var(&c.randSeed, "rand-seed", 0, "seed for fault randomness (default: random)")
	fs.TextVar(&c.adminFields, "admin-fields", procoretest.AdminFieldsChanged,
		"how the four admin-only fields are guarded for a client without Directory Admin: changed (a new value is 403) or included (sending one at all is 403)")
	fs.TextVar(&c.responseShape, "response-shape", procoretest.ResponseShapePublished,
		"fields of the update and show 200s: published (Procore's OpenAPI: contact_id, no vendor_id/permission_template/company_permission_template/welcome_email_sent_at) or extended (every stored attribute)")
	fs.TextVar(&c.errorBody, "error-body", procoretest.ErrorBodyRails,
		`body of 400/401/403 answers: rails ({"errors": ...}, OAuth error, plain text) or flat (published {"code","message","fields","reason","error"})`)
	fs.BoolVar(&c.nullClears, "null-clears", true, "a PATCH field sent as null clears it; false: 422 \"can't be null\"")
	fs.TextVar(&c.sync, "sync", procoretest.SyncAllowed,
		"PATCH .../users/sync: allowed (Directory Admin credentials only, as published), forbidden (403 for every credential) or absent (404)")
	fs.TextVar(&c.syncOrder, "sync-order", procoretest.SyncOrderInput,
		"order of a sync answer's entities and errors: input, reversed or shuffled (unpublished; a client must match by id)")
	fs.IntVar(&c.syncAllFailed, "sync-all-failed-status", 200,
		"status of a sync answer in which every item failed: 200 (published \"always 200\") or 422 (modelled alternative)")
	fs.IntVar(&c.syncMaxItems, "sync-max-items", 1000, "most items one sync request may carry; more is a 400 for the whole request")
	level := fs.String("log-level", "info", "log level: debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		return config{}, fmt.Errorf("parse flags: %w", err)
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "rand-seed" {
			c.randSeedSet = true
		}
	})
	if err := c.logLevel.UnmarshalText([]byte(*level)); err != nil {
		return config{}, fmt.Errorf("--log-level: %w", err)
	}
	if c.hourlyLimit < 0 || c.spikeLimit < 0 {
		return config{}, errors.New("--hourly-limit and --spike-limit must not be negative")
	}
	if c.tokenTTL <= 0 {
		return config{}, errors.New("--token-ttl must be positive")
	}
	for name, r := range map[string]float64{"--error-rate": c.faults.ErrorRate, "--drop-rate": c.faults.DropRate, "--malformed-rate": c.faults.MalformedRate} {
		if r < 0 || r > 1 {
			return config{}, fmt.Errorf("%s %v: must be within 0..1", name, r)
		}
	}
	if c.faults.Latency < 0 {
		return config{}, errors.New("--latency must not be negative")
	}
	if c.syncAllFailed != http.StatusOK && c.syncAllFailed != http.StatusUnprocessableEntity {
		return config{}, fmt.Errorf("--sync-all-failed-status %d: want 200 or 422", c.syncAllFailed)
	}
	if c.syncMaxItems <= 0 {
		return config{}, errors.New("--sync-max-items must be positive")
	}
	return c, nil
}

// options turns the config into emulator options.
func (c config) options(logger *slog.Logger) []procoretest.Option {
	opts := []procoretest.Option{
		procoretest.WithHourlyLimit(c.hourlyLimit),
		procoretest.WithSpikeLimit(c.spikeLimit),
		procoretest.WithPartialBodies(c.partialBodies),
		procoretest.WithTokenTTL(c.tokenTTL),
		procoretest.WithFaults(c.faults),
		procoretest.WithLogger(logger),
		procoretest.WithAdminFields(c.adminFields),
		procoretest.WithResponseShape(c.responseShape),
		procoretest.WithErrorBody(c.errorBody),
		procoretest.WithNullClears(c.nullClears),
		procoretest.WithSync(c.sync),
		procoretest.WithSyncOrder(c.syncOrder),
		procoretest.WithSyncAllFailedStatus(c.syncAllFailed),
		procoretest.WithSyncMaxItems(c.syncMaxItems),
	}
	if c.seedFile != "" {
		opts = append(opts, procoretest.WithSeedFile(c.seedFile))
	}
	if c.randSeedSet {
		opts = append(opts, procoretest.WithRandSeed(c.randSeed))
	}
	return opts
}
