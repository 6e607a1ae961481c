package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

const routeTemplate = "/rest/v1.3/companies/{company_id}/users/{id}"

// TestMetricsAfterARun: two gRPC reads (one retried after a 503, one
// replayed after a 401 and a token refresh) and one REST update (a fill GET
// and the PATCH), then /metrics, scraped through the gateway, counts them.
func TestMetricsAfterARun(t *testing.T) {
	s := startStack(t, withOps(), withRequired(service.RequiredFieldsFill))
	ctx := context.Background()
	get := &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: 1001}

	s.emu.Script(procoretest.FaultStatus(http.StatusServiceUnavailable, "text/plain", "busy", nil))
	if _, err := s.client.GetCompanyUser(ctx, get); err != nil {
		t.Fatal(err)
	}
	s.emu.Script(procoretest.FaultStatus(http.StatusUnauthorized, "application/json", `{"error":"invalid_token"}`, nil))
	if _, err := s.client.GetCompanyUser(ctx, get); err != nil {
		t.Fatal(err)
	}
	status, _, _ := s.doJSON(t, http.MethodPatch, "/v1/companies/8089/users/1001", `{"job_title": "Site Lead"}`)
	if status != http.StatusOK {
		t.Fatalf("REST update: %d", status)
	}

	samples := s.scrape(t)
	grpcSvc := "procore.directory.v1.DirectoryService"
	tests := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"grpc_server_handled_total", map[string]string{"grpc_service": grpcSvc, "grpc_method": "GetCompanyUser", "grpc_code": "OK"}, 2},
		{"grpc_server_handled_total", map[string]string{"grpc_service": grpcSvc, "grpc_method": "UpdateCompanyUser", "grpc_code": "OK"}, 1},
		{"grpc_server_handling_seconds_count", map[string]string{"grpc_service": grpcSvc, "grpc_method": "GetCompanyUser"}, 2},
		{"directoryd_upstream_requests_total", map[string]string{"method": "GET", "route": routeTemplate, "code": "200"}, 3},
		{"directoryd_upstream_requests_total", map[string]string{"method": "GET", "route": routeTemplate, "code": "503"}, 1},
		{"directoryd_upstream_requests_total", map[string]string{"method": "GET", "route": routeTemplate, "code": "401"}, 1},
		{"directoryd_upstream_requests_total", map[string]string{"method": "PATCH", "route": routeTemplate, "code": "200"}, 1},
		{"directoryd_upstream_request_duration_seconds_count", map[string]string{"method": "GET", "route": routeTemplate}, 5},
		{"directoryd_upstream_retries_total", map[string]string{"method": "GET", "route": routeTemplate}, 2},
		// The emulator's spike limit (25 per 10s) is the closest, per
		// token: after the refresh, the new token made 3 counted requests
		// (scripted faults are answered before the limiter counts).
		{"directoryd_upstream_rate_limit_remaining", map[string]string{"credential": s.clientID}, 22},
		{"directoryd_upstream_rate_limit_limit", map[string]string{"credential": s.clientID}, 25},
		{"directoryd_upstream_token_refreshes_total", map[string]string{"result": "ok"}, 1},
		{"directoryd_upstream_token_refreshes_total", map[string]string{"result": "error"}, 0},
		{"directoryd_upstream_circuit_state", nil, 0},
	}
	for _, tt := range tests {
		got, ok := value(samples, tt.name, tt.labels)
		if !ok {
			t.Errorf("%s%v: no such series", tt.name, tt.labels)
			continue
		}
		if got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
	// The window's end, as Procore reported it: within the emulator's
	// spike window (10 s) of now, so "time to reset" is its difference
	// with time().
	if reset, ok := value(samples, "directoryd_upstream_rate_limit_reset_timestamp_seconds", map[string]string{"credential": s.clientID}); !ok ||
		reset < float64(time.Now().Add(-time.Minute).Unix()) || reset > float64(time.Now().Add(2*time.Hour).Unix()) {
		t.Errorf("directoryd_upstream_rate_limit_reset_timestamp_seconds = %v (present %v), want a time near now", reset, ok)
	}
	for _, smp := range samples {
		for k, v := range smp.labels {
			if strings.Contains(v, "@") || strings.Contains(v, "8089") || strings.Contains(v, "1001") {
				t.Errorf("%s: label %s=%q carries ids or personal data", smp.name, k, v)
			}
		}
	}
}

// TestTraceSpansOneTrace: the server span, the upstream client span and
// the traceparent Procore received belong to one trace, for a gRPC call and
// for a REST call through the gateway.
func TestTraceSpansOneTrace(t *testing.T) {
	tests := []struct {
		name       string
		call       func(t *testing.T, s *stack)
		rootSpan   string // the outermost span of the trace
		rootKind   trace.SpanKind
		serverSpan string
	}{
		{
			name: "gRPC",
			call: func(t *testing.T, s *stack) {
				if _, err := s.client.GetCompanyUser(context.Background(), &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: 1001}); err != nil {
					t.Fatal(err)
				}
			},
			rootSpan: "procore.directory.v1.DirectoryService/GetCompanyUser", rootKind: trace.SpanKindServer,
			serverSpan: "procore.directory.v1.DirectoryService/GetCompanyUser",
		},
		{
			name: "REST through the gateway",
			call: func(t *testing.T, s *stack) {
				if status, _, _ := s.doJSON(t, http.MethodGet, "/v1/companies/8089/users/1001", ""); status != http.StatusOK {
					t.Fatalf("status %d", status)
				}
			},
			rootSpan: "directoryd.gateway", rootKind: trace.SpanKindServer,
			serverSpan: "procore.directory.v1.DirectoryService/GetCompanyUser",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startStack(t, withOps(), withRequired(service.RequiredFieldsFill))
			tt.call(t, s)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if !s.ended.wait(ctx, tt.rootSpan, 1) {
				t.Fatalf("span %q never ended", tt.rootSpan)
			}
			var root, server, client *traceSpan
			for _, sp := range s.spans.GetSpans() {
				ts := &traceSpan{name: sp.Name, kind: sp.SpanKind, id: sp.SpanContext.SpanID(), traceID: sp.SpanContext.TraceID(), parent: sp.Parent.SpanID()}
				switch {
				case sp.Name == tt.rootSpan && sp.SpanKind == tt.rootKind && root == nil:
					root = ts
				}
				switch {
				case sp.Name == tt.serverSpan && sp.SpanKind == trace.SpanKindServer:
					server = ts
				case sp.Name == "GET "+routeTemplate && sp.SpanKind == trace.SpanKindClient:
					client = ts
				}
			}
			if root == nil || server == nil || client == nil {
				t.Fatalf("spans: root %v, server %v, upstream client %v", root, server, client)
			}
			if server.traceID != root.traceID || client.traceID != root.traceID {
				t.Fatalf("not one trace: root %s, server %s, client %s", root.traceID, server.traceID, client.traceID)
			}
			if client.parent != server.id {
				t.Errorf("upstream span's parent %s, want the server span %s", client.parent, server.id)
			}
			var tp string
			for _, r := range s.emu.Requests() {
				if r.Method == http.MethodGet && strings.HasPrefix(r.Path, "/rest/") {
					tp = r.Traceparent
				}
			}
			want := regexp.MustCompile(`^00-` + root.traceID.String() + `-` + client.id.String() + `-01$`)
			if !want.MatchString(tp) {
				t.Fatalf("Procore received traceparent %q, want trace %s and span %s", tp, root.traceID, client.id)
			}
		})
	}
}

// TestTraceContextWithoutExporter: with nothing reading spans (directoryd's
// default: no OTLP endpoint), a gRPC call and a REST call still continue
// the caller's trace: Procore's traceparent and the access log's trace_id
// carry the caller's trace id, under a span id of directoryd's own, with
// the sampled flag cleared (nothing was recorded). Without a caller's
// trace, directoryd starts one, and the log and Procore agree on it.
func TestTraceContextWithoutExporter(t *testing.T) {
	const callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	traceparent := "00-" + callerTrace + "-00f067aa0ba902b7-01"
	hexTrace := regexp.MustCompile(`^[0-9a-f]{32}$`)
	tests := []struct {
		name        string
		rest        bool
		traceparent string
	}{
		{name: "gRPC, caller's trace", traceparent: traceparent},
		{name: "REST, caller's trace", rest: true, traceparent: traceparent},
		{name: "gRPC, no trace"},
		{name: "REST, no trace", rest: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startStack(t, withOpsUnrecorded(), withRequired(service.RequiredFieldsFill))
			if tt.rest {
				var hdr []string
				if tt.traceparent != "" {
					hdr = []string{"Traceparent", tt.traceparent}
				}
				if status, _, _ := s.doJSON(t, http.MethodGet, "/v1/companies/8089/users/1001", "", hdr...); status != http.StatusOK {
					t.Fatalf("status %d", status)
				}
			} else {
				ctx := context.Background()
				if tt.traceparent != "" {
					ctx = metadata.AppendToOutgoingContext(ctx, "traceparent", tt.traceparent)
				}
				if _, err := s.client.GetCompanyUser(ctx, &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: 1001}); err != nil {
					t.Fatal(err)
				}
			}
			var tp string
			for _, r := range s.emu.Requests() {
				if r.Method == http.MethodGet && strings.HasPrefix(r.Path, "/rest/") {
					tp = r.Traceparent
				}
			}
			parts := strings.Split(tp, "-")
			if len(parts) != 4 || parts[0] != "00" || !hexTrace.MatchString(parts[1]) || parts[2] == "00f067aa0ba902b7" || parts[3] != "00" {
				t.Fatalf("Procore received traceparent %q, want version 00, a trace id, a span of directoryd's own and flags 00", tp)
			}
			if tt.traceparent != "" && parts[1] != callerTrace {
				t.Errorf("Procore's trace %s, want the caller's %s", parts[1], callerTrace)
			}
			var logged any
			for _, l := range strings.Split(strings.TrimSpace(s.logs.String()), "\n") {
				var m map[string]any
				if err := json.Unmarshal([]byte(l), &m); err == nil && m["msg"] == "call" {
					logged = m["trace_id"]
				}
			}
			if logged != parts[1] {
				t.Errorf("access log trace_id %v, want %s (Procore's)", logged, parts[1])
			}
		})
	}
}

type traceSpan struct {
	name    string
	kind    trace.SpanKind
	id      trace.SpanID
	traceID trace.TraceID
	parent  trace.SpanID
}

// TestAccessLogAndRequestID: one JSON line per call with the request id
// (the caller's when valid, else generated), returned to the caller in
// x-request-id (gRPC header metadata, and the X-Request-Id HTTP header).
func TestAccessLogAndRequestID(t *testing.T) {
	hexID := regexp.MustCompile(`^[0-9a-f]{32}$`)
	tests := []struct {
		name   string
		sent   string // the caller's request id; "" sends none
		rest   bool
		wantID func(got string) bool
	}{
		{name: "gRPC, caller's id", sent: "req-42.a", wantID: func(got string) bool { return got == "req-42.a" }},
		{name: "gRPC, none", wantID: hexID.MatchString},
		{name: "gRPC, unsafe id replaced", sent: "x y\"z", wantID: hexID.MatchString},
		{name: "REST, caller's id", sent: "rest-7", rest: true, wantID: func(got string) bool { return got == "rest-7" }},
		{name: "REST, none", rest: true, wantID: hexID.MatchString},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startStack(t, withOps(), withRequired(service.RequiredFieldsFill))
			var returned string
			if tt.rest {
				var hdr []string
				if tt.sent != "" {
					hdr = []string{"X-Request-Id", tt.sent}
				}
				status, h, _ := s.doJSON(t, http.MethodGet, "/v1/companies/8089/users/1001", "", hdr...)
				if status != http.StatusOK {
					t.Fatalf("status %d", status)
				}
				returned = h.Get("X-Request-Id")
			} else {
				ctx := context.Background()
				if tt.sent != "" {
					ctx = metadata.AppendToOutgoingContext(ctx, "x-request-id", tt.sent)
				}
				var md metadata.MD
				if _, err := s.client.GetCompanyUser(ctx, &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: 1001}, grpc.Header(&md)); err != nil {
					t.Fatal(err)
				}
				if v := md.Get("x-request-id"); len(v) == 1 {
					returned = v[0]
				}
			}
			if !tt.wantID(returned) {
				t.Fatalf("returned request id %q", returned)
			}
			lines := strings.Split(strings.TrimSpace(s.logs.String()), "\n")
			var calls []map[string]any
			for _, l := range lines {
				var m map[string]any
				if err := json.Unmarshal([]byte(l), &m); err != nil {
					t.Fatalf("not JSON: %q", l)
				}
				if m["msg"] == "call" {
					calls = append(calls, m)
				}
			}
			if len(calls) != 1 {
				t.Fatalf("%d access-log lines, want 1: %s", len(calls), s.logs)
			}
			c := calls[0]
			if c["request_id"] != returned || c["method"] != "/procore.directory.v1.DirectoryService/GetCompanyUser" ||
				c["code"] != "OK" || c["upstream_status"] != float64(200) || c["upstream_attempts"] != float64(1) ||
				c["duration_ms"] == nil || c["trace_id"] == nil || c["upstream_request_id"] == nil {
				t.Fatalf("access log %v", c)
			}
			if strings.Contains(s.logs.String(), "@") {
				t.Fatalf("log carries an e-mail address: %s", s.logs)
			}
		})
	}
}
