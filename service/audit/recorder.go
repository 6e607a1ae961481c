package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/procore-directory/procore-directory/service/apierr"
)

// Recorder writes each event to every sink, filling in what the call's
// context knows (time, caller, call id, trace id, operation, replica).
// A sink it cannot write is counted (Lost) and logged. With Required,
// every request is preceded by its write-ahead record (Sending), and one
// that cannot be written in every sink is refused before it is sent.
type Recorder struct {
	sinks    []Sink
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

// WithRequired makes every request to Procore wait for its write-ahead
// record (Sending) in every sink, and a sink that cannot be written refuse
// it before anything is sent (UNAVAILABLE, AUDIT_UNAVAILABLE), rather than
// let it proceed with its events lost.
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

// Caller is the caller events of ctx name.
func (r *Recorder) Caller(ctx context.Context) string {
	if c := callFrom(ctx); c.caller != "" {
		return c.caller
	}
	return r.caller(ctx)
}

// Record completes events from ctx and writes them, as update events, to
// every sink, returning the joined errors of the sinks that failed (each
// counted and logged with the events, so that they are not gone for good).
// It is called before the caller is told the outcomes.
func (r *Recorder) Record(ctx context.Context, events ...Event) error {
	if r == nil || len(events) == 0 {
		return nil
	}
	lines, err := r.complete(ctx, KindUpdate, events)
	if err != nil {
		return err
	}
	var errs []error
	for _, s := range r.sinks {
		if err := r.write(ctx, s, lines); err != nil {
			r.lost(s.Name())
			r.log.LogAttrs(ctx, slog.LevelError, "audit event lost", slog.String("sink", s.Name()),
				slog.String("err", err.Error()), slog.Any("events", rawLines(lines)))
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Sending writes, with Required, the write-ahead record of each write
// about to be sent (a sending event: outcome unknown, no code yet) to
// every sink, and returns AUDIT_UNAVAILABLE naming the first sink that
// could not write them: the writes must then not be sent. So with
// Required every request that leaves for Procore is in every sink first,
// even when a sink dies before its outcome can be written, or the replica
// before it can write it. Without Required it writes nothing: nothing
// would be refused for a sink that failed.
func (r *Recorder) Sending(ctx context.Context, op string, events ...Event) error {
	if r == nil || !r.required || len(events) == 0 {
		return nil
	}
	for i := range events {
		events[i].Outcome, events[i].Code, events[i].Reason = OutcomeUnknown, "", ""
		events[i].UpstreamStatus, events[i].UpstreamRequestID = 0, ""
	}
	lines, err := r.complete(ctx, KindSending, events)
	if err != nil {
		return ErrUnavailable(op, "encode")
	}
	for _, s := range r.sinks {
		if err := r.write(ctx, s, lines); err != nil {
			r.log.LogAttrs(ctx, slog.LevelError, "audit sink cannot be written: refusing the update", slog.String("sink", s.Name()),
				slog.String("err", err.Error()))
			return ErrUnavailable(op, s.Name())
		}
	}
	return nil
}

// complete fills events in from ctx as kind and encodes them.
func (r *Recorder) complete(ctx context.Context, kind string, events []Event) ([][]byte, error) {
	c := callFrom(ctx)
	now, caller, trace := r.now().UTC(), r.Caller(ctx), r.traceID(ctx)
	lines := make([][]byte, len(events))
	for i := range events {
		e := &events[i]
		e.Time, e.Event, e.Caller, e.CallID = now, kind, caller, c.callID
		e.Operation, e.TraceID, e.Replica = c.operation, trace, r.replica
		if e.Fields == nil {
			e.Fields = []string{}
		}
		line, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("audit: encode: %w", err)
		}
		lines[i] = line
	}
	return lines, nil
}

// write writes lines to s, unless s says it is down. The caller's
// cancellation does not cut a write short: the request it records may
// already be on its way.
func (r *Recorder) write(ctx context.Context, s Sink, lines [][]byte) error {
	if d, ok := s.(Downer); ok && d.Down() {
		return errSinkDown
	}
	return s.Write(context.WithoutCancel(ctx), lines)
}

// rawLines logs lines as JSON values.
func rawLines(lines [][]byte) []json.RawMessage {
	out := make([]json.RawMessage, len(lines))
	for i, l := range lines {
		out[i] = l
	}
	return out
}
