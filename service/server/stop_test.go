package server_test

import (
	"context"
	"net/http"
	"net/http/httptrace"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/service/apierr"
	"github.com/procore-directory/procore-directory/service/server"
	"github.com/procore-directory/procore-directory/service/servicetest"
	"github.com/procore-directory/procore-directory/upstream"
	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

// sentPatch is an http.RoundTripper that reports when a PATCH has gone out,
// so a test can stop the server with the PATCH in flight, not before.
type sentPatch struct {
	once sync.Once
	sent chan struct{}
}

func (s *sentPatch) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPatch {
		r = r.WithContext(httptrace.WithClientTrace(r.Context(), &httptrace.ClientTrace{
			WroteRequest: func(httptrace.WroteRequestInfo) { s.once.Do(func() { close(s.sent) }) },
		}))
	}
	return http.DefaultTransport.RoundTrip(r)
}

// stopTestOptions are the stack options of the stop tests: masked-only
// updates that Procore accepts, an upstream client that reports its first
// PATCH to probe, and a 2 s grace to answer after the stop deadline.
func stopTestOptions(probe *sentPatch) []stackOption {
	return []stackOption{withoutRateLimits(), withEmulator(procoretest.WithPartialBodies(true)),
		withRequired(service.RequiredFieldsMaskedOnly),
		withUpstreamOptions(upstream.WithHTTPClient(&http.Client{Transport: probe})),
		withConfig(func(cfg *server.Config) { cfg.StopAnswerGrace = 2 * time.Second })}
}

// TestShutdownNeverMisinforms: at Shutdown, health is NOT_SERVING and no
// new call is admitted at once; a call whose PATCH is in flight at the
// deadline is answered UNAVAILABLE with UPSTREAM_OUTCOME_UNKNOWN through
// its open transport (never a bare EOF); the emulator confirms the write
// may indeed land late.
func TestShutdownNeverMisinforms(t *testing.T) {
	probe := &sentPatch{sent: make(chan struct{})}
	s := startStack(t, stopTestOptions(probe)...)
	health := healthpb.NewHealthClient(dialBufconn(t, s.srv))

	s.emu.Script(procoretest.FaultStall(time.Second))
	type result struct {
		err error
	}
	res := make(chan result, 1)
	go func() {
		_, err := s.client.UpdateCompanyUser(context.Background(), &directoryv1.UpdateCompanyUserRequest{CompanyId: 8089, Id: 1001,
			User: &directoryv1.CompanyUser{JobTitle: proto.String("In flight")}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"job_title"}}})
		res <- result{err}
	}()
	<-probe.sent

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	stopped := make(chan bool, 1)
	go func() { stopped <- s.srv.Shutdown(ctx) }()

	r := <-res
	st := status.Convert(r.err)
	if st.Code() != codes.Unavailable || reasonOf(st) != apierr.ReasonUpstreamOutcomeUnknown {
		t.Fatalf("in flight at the deadline: %v (reason %q), want UNAVAILABLE UPSTREAM_OUTCOME_UNKNOWN", r.err, reasonOf(st))
	}
	if drained := <-stopped; drained {
		t.Error("drained = true although a call was cancelled")
	}
	if hc, err := health.Check(context.Background(), &healthpb.HealthCheckRequest{Service: directoryv1.DirectoryService_ServiceDesc.ServiceName}); err == nil && hc.GetStatus() == healthpb.HealthCheckResponse_SERVING {
		t.Error("health SERVING after Shutdown")
	}
	s.emu.WaitStalls()
}

// TestStopGateRefusesNewCalls: once Shutdown has begun, a DirectoryService
// call on a connection that is still open (the in-process channel here,
// as a keep-alive HTTP connection would be) gets UNAVAILABLE SHUTTING_DOWN,
// and nothing reaches Procore.
func TestStopGateRefusesNewCalls(t *testing.T) {
	probe := &sentPatch{sent: make(chan struct{})}
	s := startStack(t, stopTestOptions(probe)...)
	s.emu.Script(procoretest.FaultStall(300 * time.Millisecond))
	res := make(chan error, 1)
	go func() {
		_, err := s.client.UpdateCompanyUser(context.Background(), &directoryv1.UpdateCompanyUserRequest{CompanyId: 8089, Id: 1001,
			User: &directoryv1.CompanyUser{JobTitle: proto.String("Drains")}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"job_title"}}})
		res <- err
	}()
	<-probe.sent // the stalled call holds the server open while the gate is tested
	stopped := make(chan bool, 1)
	go func() { stopped <- s.srv.Shutdown(context.Background()) }()
	client := directoryv1.NewDirectoryServiceClient(s.srv.InProcess())
	var err error
	for {
		_, err = client.GetCompanyUser(context.Background(), &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: 1001})
		if status.Code(err) != codes.OK {
			break
		}
	}
	if st := status.Convert(err); st.Code() != codes.Unavailable {
		t.Fatalf("after Shutdown: %v, want UNAVAILABLE", err)
	}
	if err := <-res; err != nil {
		t.Fatalf("the call in flight did not get its answer: %v", err)
	}
	if !<-stopped {
		t.Error("not drained although the call in flight finished")
	}
}

// blockingUpstream holds every GET until release is closed or the call is
// cancelled, and says on entered when one is waiting.
type blockingUpstream struct {
	*servicetest.Upstream
	entered chan struct{}
	release chan struct{}
}

func (b *blockingUpstream) GetCompanyUser(ctx context.Context, company, id int64) (*upstream.User, error) {
	b.entered <- struct{}{}
	select {
	case <-b.release:
		return b.Upstream.GetCompanyUser(ctx, company, id)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// TestShutdownReportsDrained: Shutdown says whether the calls in flight
// finished by themselves (the "drained" of directoryd's last log line).
func TestShutdownReportsDrained(t *testing.T) {
	tests := []struct {
		name     string
		inFlight bool
		release  bool // let the call finish: otherwise it outlives ctx
		want     bool
	}{
		{name: "idle", want: true},
		{name: "call finishes", inFlight: true, release: true, want: true},
		{name: "call outlives the deadline", inFlight: true, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := &blockingUpstream{Upstream: &servicetest.Upstream{Current: servicetest.SeedUser()}, entered: make(chan struct{}, 1), release: make(chan struct{})}
			s := startStack(t, withUpstream(up))
			srv, client := s.srv, s.client
			callErr := make(chan error, 1)
			if tt.inFlight {
				go func() {
					_, err := client.GetCompanyUser(context.Background(), &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: 1001})
					callErr <- err
				}()
				<-up.entered
			}
			ctx, cancel := context.WithCancel(context.Background())
			switch {
			case tt.release:
				close(up.release)
			case tt.inFlight:
				cancel() // no time left: the call in flight is cancelled
			}
			got := srv.Shutdown(ctx)
			cancel()
			if got != tt.want {
				t.Errorf("Shutdown drained = %v, want %v", got, tt.want)
			}
			if tt.inFlight {
				err := <-callErr
				if tt.release && err != nil {
					t.Errorf("the drained call failed: %v", err)
				}
				if !tt.release && err == nil {
					t.Errorf("the call outliving the deadline succeeded")
				}
			}
		})
	}
}
