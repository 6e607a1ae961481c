package telemetry

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// TestSpansRecordOnlyWhenRead: with nothing to read spans (no exporter, no
// processor) a span records nothing, yet has fresh ids, continues a
// caller's trace and clears the sampled flag it passes on (this hop
// recorded nothing); with a processor every span is recorded and sampled.
func TestSpansRecordOnlyWhenRead(t *testing.T) {
	parent := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{1, 2, 3},
		SpanID:     trace.SpanID{4, 5, 6},
		TraceFlags: trace.FlagsSampled,
		Remote:     true,
	})
	tests := []struct {
		name          string
		opts          []Option
		wantRecording bool
	}{
		{name: "no exporter"},
		{name: "a span processor", opts: []Option{WithSpanProcessor(tracetest.NewSpanRecorder())}, wantRecording: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tel, err := New(context.Background(), tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
			tracer := tel.TracerProvider.Tracer("test")

			_, root := tracer.Start(context.Background(), "root")
			rsc, rootRecording := root.SpanContext(), root.IsRecording()
			root.End()
			if !rsc.TraceID().IsValid() || !rsc.SpanID().IsValid() {
				t.Errorf("root span ids %v/%v, want valid ones (the access log and traceparent need them)", rsc.TraceID(), rsc.SpanID())
			}
			if rootRecording != tt.wantRecording || rsc.IsSampled() != tt.wantRecording {
				t.Errorf("root: recording %v sampled %v, want %v", rootRecording, rsc.IsSampled(), tt.wantRecording)
			}

			_, child := tracer.Start(trace.ContextWithRemoteSpanContext(context.Background(), parent), "child")
			csc, childRecording := child.SpanContext(), child.IsRecording()
			child.End()
			if csc.TraceID() != parent.TraceID() || csc.SpanID() == parent.SpanID() || !csc.SpanID().IsValid() {
				t.Errorf("child of a remote parent: trace %v span %v, want trace %v and a new span id", csc.TraceID(), csc.SpanID(), parent.TraceID())
			}
			if childRecording != tt.wantRecording || csc.IsSampled() != tt.wantRecording {
				t.Errorf("child: recording %v sampled %v, want %v", childRecording, csc.IsSampled(), tt.wantRecording)
			}
		})
	}
}
