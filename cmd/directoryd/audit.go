package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/procore-directory/procore-directory/service/audit"
	"github.com/procore-directory/procore-directory/service/audit/redisaudit"
	"github.com/procore-directory/procore-directory/service/server"
	"github.com/procore-directory/procore-directory/service/state/redisstate"
)

// AuditConfig is where the trail of every write goes.
type AuditConfig struct {
	// Sinks is --audit: a comma-separated list of stderr, file:PATH and
	// redis; "off" writes no trail.
	Sinks string
	// Required is --audit-required; unset: on in client-credentials mode.
	Required optionalBool
	// MaxEvents bounds the Redis Stream (--audit-max-events).
	MaxEvents int64
}

func (a *AuditConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&a.Sinks, "audit", "stderr", "where the audit trail of every write goes, comma-separated: stderr (its own \"msg\":\"audit\" lines), file:PATH (appended, fsync'd), redis (with --redis-url: one Stream for the fleet); off: no trail")
	fs.Var(&a.Required, "audit-required", "write a sending record to every --audit sink before each request to Procore, and refuse the update (UNAVAILABLE, AUDIT_UNAVAILABLE) before anything is sent when one cannot take it; false: no sending records, send updates whatever the sinks do and count the lost events (directoryd_audit_events_lost_total); default true in client-credentials mode, false in pass-through")
	fs.Int64Var(&a.MaxEvents, "audit-max-events", redisaudit.DefaultMaxEvents, "with --audit=redis: about how many events the fleet's Stream keeps (XADD MAXLEN ~), the oldest trimmed first")
}

// sinkSpec is one parsed --audit entry.
type sinkSpec struct{ kind, path string }

func (a *AuditConfig) specs() ([]sinkSpec, error) {
	if strings.TrimSpace(a.Sinks) == "off" {
		return nil, nil
	}
	var out []sinkSpec
	for _, s := range strings.Split(a.Sinks, ",") {
		s = strings.TrimSpace(s)
		switch kind, path, _ := strings.Cut(s, ":"); {
		case s == "stderr" || s == "redis":
			out = append(out, sinkSpec{kind: s})
		case kind == "file" && path != "":
			out = append(out, sinkSpec{kind: kind, path: path})
		default:
			return nil, fmt.Errorf("--audit: %q: want stderr, file:PATH, redis or off", s)
		}
	}
	return out, nil
}

func (a *AuditConfig) validate(redisURL string) error {
	specs, err := a.specs()
	if err != nil {
		return err
	}
	for _, s := range specs {
		if s.kind == "redis" && redisURL == "" {
			return errors.New("--audit=redis needs --redis-url")
		}
	}
	if a.MaxEvents <= 0 {
		return errors.New("--audit-max-events must be positive")
	}
	return nil
}

// open opens the sinks into sc.Audit, and its Reader (ListAuditEvents):
// the Redis Stream, else the first file; closeAll closes the files.
func (a *AuditConfig) open(sc *server.Config, auth string, shared *redisstate.Conn, stderr io.Writer) (closeAll func(), err error) {
	specs, err := a.specs()
	if err != nil {
		return nil, err
	}
	var files []*audit.FileSink
	closeAll = func() {
		for _, f := range files {
			_ = f.Close()
		}
	}
	for _, s := range specs {
		switch s.kind {
		case "stderr":
			sc.Audit.Sinks = append(sc.Audit.Sinks, audit.NewWriterSink(stderr))
		case "file":
			f, err := audit.OpenFile(s.path)
			if err != nil {
				closeAll()
				return nil, err
			}
			files = append(files, f)
			sc.Audit.Sinks = append(sc.Audit.Sinks, f)
			if sc.Audit.Reader == nil {
				sc.Audit.Reader = audit.NewFileReader(s.path)
			}
		case "redis":
			stream := redisaudit.New(shared, a.MaxEvents)
			sc.Audit.Sinks = append(sc.Audit.Sinks, stream)
			sc.Audit.Reader = stream // the fleet's trail wins over one replica's file
		}
	}
	sc.Audit.Required = a.Required.or(auth == authClientCredentials)
	return closeAll, nil
}

// optionalBool is a boolean flag that knows whether it was set.
type optionalBool struct {
	set, value bool
}

// String implements flag.Value.
func (b *optionalBool) String() string {
	if b == nil || !b.set {
		return ""
	}
	return strconv.FormatBool(b.value)
}

// Set implements flag.Value.
func (b *optionalBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	b.set, b.value = true, v
	return nil
}

// IsBoolFlag lets --audit-required stand alone for true.
func (*optionalBool) IsBoolFlag() bool { return true }

// or is the value when set, else def.
func (b optionalBool) or(def bool) bool {
	if b.set {
		return b.value
	}
	return def
}
