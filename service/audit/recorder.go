package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/procore-directory/procore-directory/service/apierr"
)

// Recorder writes each event to every sink, filling in what the call's
// context knows (time, caller, call id, trace id, operation, replica).
// A sink it cannot write is counted (Lost) and logged; with Required,
// updates are refused (Ready) until the sink can be written again.
type Recorder struct {
	sinks    []Sink
	failing  []atomic.Bool // per sink: its last write failed
	required bool
	replica  string
	caller   func(context.Context) string
	traceID  func(context.Context) string
	lost     func(sink string)
	log      *slog.Logger
	now      func() time.Time
}

// Option configures a Recorder.
type Option func(*Recorder)

// WithRequired makes a sink that cannot be written refuse updates before
// anything is sent (UNAVAILABLE, AUDIT_UNAVAILABLE), rather than let them
// proceed with their events lost.
func WithRequired(on bool) Option { return func(r *Recorder) { r.required = on } }

// WithReplica names this replica in every event (the host name by default).
func WithReplica(name string) Option { return func(r *Recorder) { r.replica = name } }

// WithCaller names the verified caller of a call: in pass-through mode,
// "token:" and 8 hex digits of the token's SHA-256, never the token. A
// batch's runner context (WithBatch) names its caller itself.
func WithCaller(f func(context.Context) string) Option { return func(r *Recorder) { r.caller = f } }

// WithTraceID gives the trace id of a call, "" when it is not traced.
func WithTraceID(f func(context.Context) string) Option { return func(r *Recorder) { r.traceID = f } }

// WithLost is told of every event a sink could not write (the
// directoryd_audit_events_lost_total counter, by sink).
func WithLost(f func(sink string)) Option { return func(r *Recorder) { r.lost = f } }

// WithLogger is where a lost event is said to be lost, with the event
// itself (its keys, never a value), so that it is not gone for good.
func WithLogger(l *slog.Logger) Option { return func(r *Recorder) { r.log = l } }

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(r *Recorder) { r.now = now } }

// NewRecorder returns a Recorder that writes to sinks.
func NewRecorder(sinks []Sink, opts ...Option) *Recorder {
	r := &Recorder{
		sinks:   sinks,
		failing: make([]atomic.Bool, len(sinks)),
		caller:  func(context.Context) string { return "" },
		traceID: func(context.Context) string { return "" },
		lost:    func(string) {},
		log:     slog.New(slog.DiscardHandler),
		now:     time.Now,
	}
	r.replica, _ = os.Hostname()
	for _, o := range opts {
		o(r)
	}
	return r
}

// msgUnavailable is AUDIT_UNAVAILABLE's message.
const msgUnavailable = "the audit trail cannot be written, and --audit-required refuses updates without it; nothing was sent to Procore: retry later"

// ErrUnavailable is the status of an update refused because a sink cannot
// be written (--audit-required): UNAVAILABLE, AUDIT_UNAVAILABLE.
func ErrUnavailable(op, sink string) error {
	return apierr.New(codes.Unavailable, apierr.ReasonAuditUnavailable, op+": "+msgUnavailable,
		map[string]string{"sink": sink})
}

// errSinkDown is the write error of a sink that says it is down: it is
// not tried (a dead Redis would hold every update for its time-out).
var errSinkDown = errors.New("audit: the sink is down")

// Ready reports whether an update may be sent: always without Required;
// with it, no sink may say it is down (Downer), and every sink whose last
// write failed must pass its Check again (a sink that cannot check stays
// refused until it is written).
func (r *Recorder) Ready(ctx context.Context, op string) error {
	if r == nil || !r.required {
		return nil
	}
	for i, s := range r.sinks {
		if d, ok := s.(Downer); ok && d.Down() {
			return ErrUnavailable(op, s.Name())
		}
		if !r.failing[i].Load() {
			continue
		}
		c, ok := s.(Checker)
		if !ok || c.Check(ctx) != nil {
			return ErrUnavailable(op, s.Name())
		}
		r.failing[i].Store(false)
	}
	return nil
}

// Caller is the caller events of ctx name.
func (r *Recorder) Caller(ctx context.Context) string {
	if c := callFrom(ctx); c.caller != "" {
		return c.caller
	}
	return r.caller(ctx)
}

// Record completes e from ctx and writes it to every sink, returning the
// joined errors of the sinks that failed (each counted and logged with
// the event). It is called before the caller is told e's outcome.
func (r *Recorder) Record(ctx context.Context, e Event) error {
	if r == nil {
		return nil
	}
	c := callFrom(ctx)
	e.Time = r.now().UTC()
	e.Event = KindUpdate
	e.Caller = r.Caller(ctx)
	e.CallID = c.callID
	e.Operation = c.operation
	e.TraceID = r.traceID(ctx)
	e.Replica = r.replica
	if e.Fields == nil {
		e.Fields = []string{}
	}
	line, err := json.Marshal(&e)
	if err != nil {
		return fmt.Errorf("audit: encode: %w", err)
	}
	var errs []error
	for i, s := range r.sinks {
		err := errSinkDown
		if d, ok := s.(Downer); !ok || !d.Down() {
			err = s.Write(context.WithoutCancel(ctx), &e, line)
		}
		if err != nil {
			r.failing[i].Store(true)
			r.lost(s.Name())
			r.log.LogAttrs(ctx, slog.LevelError, "audit event lost", slog.String("sink", s.Name()),
				slog.String("err", err.Error()), slog.Any("event", json.RawMessage(line)))
			errs = append(errs, err)
			continue
		}
		r.failing[i].Store(false)
	}
	return errors.Join(errs...)
}
