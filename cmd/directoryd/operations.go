package main

import (
	"errors"
	"flag"
	"fmt"

	"github.com/procore-directory/procore-directory/service/server"
	"github.com/procore-directory/procore-directory/upstream"
)

// OpsConfig is the operations part of the configuration: pacing, the
// circuit breaker and where traces go.
type OpsConfig struct {
	// PacingBurst is upstream.WithPacing's burst; 0 turns pacing off.
	PacingBurst int
	// Breaker configures the circuit breaker around Procore.
	Breaker upstream.BreakerConfig
	// OTLPEndpoint is where traces are exported (OTLP/gRPC); empty: not
	// exported. From OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or
	// OTEL_EXPORTER_OTLP_ENDPOINT, the standard variables.
	OTLPEndpoint string
	// GCPercent is the garbage collector's target (debug.SetGCPercent).
	// directoryd's live heap is a few MiB and each call allocates ~30 KiB
	// of short-lived garbage, so Go's default of 100 collects very often;
	// 400 costs a few MiB more and ~20 % less CPU per call (BENCHMARKS.md).
	GCPercent int
	// StreamWorkers is server.Config.StreamWorkers.
	StreamWorkers int
	// GOGCFromEnv: the GOGC variable is set, and the runtime's reading of
	// it wins over GCPercent.
	GOGCFromEnv bool
	// DebugAddr is where net/http/pprof is served (debug.go); empty: off.
	// Loopback only unless DebugAllowRemote.
	DebugAddr string
	// DebugAllowRemote lets DebugAddr be a non-loopback address.
	DebugAllowRemote bool
}

// DefaultGCPercent is --gc-percent's default; see OpsConfig.GCPercent.
const DefaultGCPercent = 400

// register adds the operations flags (each also DIRECTORYD_<FLAG>).
func (o *OpsConfig) register(fs *flag.FlagSet) {
	def := upstream.DefaultBreakerConfig()
	fs.IntVar(&o.PacingBurst, "pacing-burst", upstream.DefaultPacingBurst, "requests per Procore credential that may go at once before pacing spreads the rest over the rate-limit window; 0 turns pacing off")
	fs.IntVar(&o.Breaker.ConsecutiveFailures, "breaker-failures", def.ConsecutiveFailures, "consecutive upstream failures (5xx, no answer) that open the circuit breaker; 0 turns it off")
	fs.DurationVar(&o.Breaker.OpenTimeout, "breaker-open-timeout", def.OpenTimeout, "how long the open circuit breaker fails calls fast before probing Procore")
	fs.IntVar(&o.Breaker.HalfOpenRequests, "breaker-probes", def.HalfOpenRequests, "probe requests let through when the circuit breaker is half-open; as many successes close it")
	fs.IntVar(&o.StreamWorkers, "stream-workers", server.DefaultStreamWorkers, "goroutines kept to run gRPC calls, whose stacks stay grown between calls; more calls at once get goroutines of their own; 0: a new goroutine per call")
	fs.StringVar(&o.DebugAddr, "debug-addr", "", "serve net/http/pprof (/debug/pprof/) on this address, e.g. 127.0.0.1:6060 (an empty host is loopback); off when empty")
	fs.BoolVar(&o.DebugAllowRemote, "debug-allow-remote", false, "let --debug-addr be a non-loopback address")
	fs.IntVar(&o.GCPercent, "gc-percent", DefaultGCPercent, "garbage collector target, as GOGC (heap growth in % over live data before a collection; -1: off, then set GOMEMLIMIT); ignored when GOGC is set")
}

// readEnv takes the standard OpenTelemetry exporter variables.
func (o *OpsConfig) readEnv(getenv func(string) string) {
	o.GOGCFromEnv = getenv("GOGC") != ""
	o.OTLPEndpoint = getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	if o.OTLPEndpoint == "" {
		o.OTLPEndpoint = getenv("OTEL_EXPORTER_OTLP_ENDPOINT")
	}
}

func (o *OpsConfig) validate() error {
	switch {
	case o.PacingBurst < 0:
		return errors.New("--pacing-burst must not be negative")
	case o.Breaker.ConsecutiveFailures < 0:
		return errors.New("--breaker-failures must not be negative")
	case o.Breaker.OpenTimeout <= 0:
		return errors.New("--breaker-open-timeout must be positive")
	case o.Breaker.HalfOpenRequests < 1:
		return errors.New("--breaker-probes must be at least 1")
	case o.StreamWorkers < 0 || o.StreamWorkers > 1<<16:
		return errors.New("--stream-workers must be between 0 and 65536")
	case o.GCPercent == 0 || o.GCPercent < -1:
		return errors.New("--gc-percent must be positive, or -1 to turn the collector off")
	}
	if o.DebugAddr != "" {
		addr, err := debugAddr(o.DebugAddr, o.DebugAllowRemote)
		if err != nil {
			return err
		}
		o.DebugAddr = addr
	} else if o.DebugAllowRemote {
		return errors.New("--debug-allow-remote applies only with --debug-addr")
	}
	if o.OTLPEndpoint != "" {
		if err := checkURL(o.OTLPEndpoint); err != nil {
			return fmt.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT: %w", err)
		}
	}
	return nil
}
