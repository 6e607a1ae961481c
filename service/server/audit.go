package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"

	"go.opentelemetry.io/otel/trace"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/service/audit"
	"github.com/procore-directory/procore-directory/service/auth"
	"github.com/procore-directory/procore-directory/upstream"
)

// AuditConfig is where the audit trail of every write goes (--audit).
type AuditConfig struct {
	// Sinks are written in order, each before the caller hears the
	// outcome; none: no trail.
	Sinks []audit.Sink
	// Required refuses updates (AUDIT_UNAVAILABLE) while a sink cannot be
	// written, rather than let them proceed with their events lost.
	Required bool
	// Replica names this replica in the events; "": the host name.
	Replica string
	// Reader serves ListAuditEvents: the fleet's Redis Stream, else this
	// replica's file; nil: ListAuditEvents is off (AUDIT_LIST_OFF).
	Reader audit.Reader
}

// auditLister is ListAuditEvents as cfg configures it: off in
// pass-through mode.
func (cfg *Config) auditLister(svc *service.Service) *auditLister {
	return &auditLister{reader: cfg.Audit.Reader, authz: cfg.Authorizer, passThrough: cfg.ClientCredentials == nil,
		check: func(req *directoryv1.ListAuditEventsRequest) error { return svc.CheckMessage(req) }}
}

// auditor is the Recorder cfg.Audit describes, nil without sinks.
func (cfg *Config) auditor(log *slog.Logger) *audit.Recorder {
	if len(cfg.Audit.Sinks) == 0 {
		return nil
	}
	opts := []audit.Option{audit.WithRequired(cfg.Audit.Required), audit.WithLogger(log),
		audit.WithCaller(auditCaller), audit.WithTraceID(traceID)}
	if cfg.Audit.Replica != "" {
		opts = append(opts, audit.WithReplica(cfg.Audit.Replica))
	}
	if cfg.Telemetry != nil {
		opts = append(opts, audit.WithLost(cfg.Telemetry.Metrics.AuditEventLost))
	}
	return audit.NewRecorder(cfg.Audit.Sinks, opts...)
}

// auditCaller is the caller an event names: the verified identity, else
// (pass-through mode) "token:" and 8 hex digits of the token's SHA-256,
// never the token.
func auditCaller(ctx context.Context) string {
	if c, ok := auth.CallerFromContext(ctx); ok {
		return c.ID
	}
	if tok, ok := upstream.TokenFromContext(ctx); ok {
		sum := sha256.Sum256([]byte(tok))
		return "token:" + hex.EncodeToString(sum[:4])
	}
	return ""
}

// traceID is the call's trace id, "" when it is not traced.
func traceID(ctx context.Context) string {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		return sc.TraceID().String()
	}
	return ""
}
