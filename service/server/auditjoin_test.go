package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptrace"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/service/audit"
	"github.com/procore-directory/procore-directory/service/audit/audittest"
	"github.com/procore-directory/procore-directory/service/server"
	"github.com/procore-directory/procore-directory/upstream"
	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

// TestAuditJoinsTheEmulatorLog runs single and batch updates through
// faults (a 5xx, a drop before and after the write, apply-then-500, a 503
// retried, an unreadable 200, a sync applied then answered 500, and a
// stop with a PATCH in flight), then joins the file trail with the
// emulator's request log: every PATCH and every sync item has a
// write-ahead record (the trail is required) and exactly one final event
// for its user with the field names it carried, every event before a
// final one is unknown, and no event claims applied for a write
// the user's record shows Procore did not apply (nor not_applied for one
// it did).
func TestAuditJoinsTheEmulatorLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	sink, err := audit.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	probe := &armedPatch{}
	s := startStack(t, withoutRateLimits(), withEmulator(procoretest.WithPartialBodies(true), procoretest.WithSeed(audittest.Seed(t, 20))),
		withRequired(service.RequiredFieldsMaskedOnly),
		withUpstreamOptions(upstream.WithHTTPClient(&http.Client{Transport: probe})),
		withConfig(func(cfg *server.Config) { cfg.StopAnswerGrace = 2 * time.Second }),
		withConfig(func(c *server.Config) {
			c.Audit = server.AuditConfig{Sinks: []audit.Sink{sink}, Required: true, Reader: audit.NewFileReader(path)}
		}))
	ctx := context.Background()
	sent := map[int64]string{} // user: the job_title its write sent
	single := func(id int64) error {
		sent[id] = "Title " + strconv.FormatInt(id, 10)
		_, err := s.client.UpdateCompanyUser(ctx, &directoryv1.UpdateCompanyUserRequest{CompanyId: 8089, Id: id,
			User: &directoryv1.CompanyUser{JobTitle: proto.String(sent[id])}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"job_title"}}})
		return err
	}
	retryNow := http.Header{"Retry-After": {"0"}}
	for id, f := range map[int64][]procoretest.Fault{
		1: nil,
		2: {procoretest.FaultStatus(500, "", "", nil)},
		3: {procoretest.FaultDropBeforeBody()},
		4: {procoretest.FaultDropAfterApply()},
		5: {procoretest.FaultApplyThenStatus(500)},
		6: {procoretest.FaultStatus(503, "text/plain", "busy", retryNow)},
		7: {procoretest.FaultMalformed()},
	} {
		s.emu.Script(f...)
		_ = single(id) // every answer is fine here: the trail is under test
	}
	ops := longrunningpb.NewOperationsClient(s.conn)
	for _, b := range []struct {
		ids    []int64
		faults []procoretest.Fault
	}{{ids: []int64{10, 11, 12}, faults: []procoretest.Fault{procoretest.FaultApplyThenStatus(500)}}, {ids: []int64{13, 14}}} {
		s.emu.Script(b.faults...)
		req := &directoryv1.BatchUpdateCompanyUsersRequest{CompanyId: 8089}
		for _, id := range b.ids {
			sent[id] = "Batch " + strconv.FormatInt(id, 10)
			req.Requests = append(req.Requests, &directoryv1.UpdateCompanyUserRequest{Id: id,
				User: &directoryv1.CompanyUser{JobTitle: proto.String(sent[id])}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"job_title"}}})
		}
		op, err := s.client.BatchUpdateCompanyUsers(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if done, err := ops.WaitOperation(ctx, &longrunningpb.WaitOperationRequest{Name: op.GetName(), Timeout: durationpb.New(30 * time.Second)}); err != nil || !done.GetDone() {
			t.Fatalf("WaitOperation: %v %v", done, err)
		}
	}
	// The stop: a PATCH stalled in Procore when the server stops.
	s.emu.Script(procoretest.FaultStall(time.Second))
	inFlight := probe.arm()
	res := make(chan error, 1)
	go func() { res <- single(15) }()
	<-inFlight
	stopCtx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	s.srv.Shutdown(stopCtx)
	if err := <-res; status.Code(err) != codes.Unavailable {
		t.Fatalf("the call stopped mid-PATCH: %v, want UNAVAILABLE", err)
	}
	s.emu.WaitStalls()

	carried := audittest.Carried(t, s.emu.Requests())
	if len(carried) != len(sent) {
		t.Errorf("Procore saw writes for %d users, the run sent %d", len(carried), len(sent))
	}
	audittest.Join(t, carried, audittest.ReadFile(t, path), func(id int64) bool {
		raw, _ := s.emu.User(8089, id)
		var rec struct {
			JobTitle string `json:"job_title"`
		}
		_ = json.Unmarshal(raw, &rec)
		return rec.JobTitle == sent[id]
	})
}

// armedPatch is an http.RoundTripper that reports when the next PATCH
// after arm has gone out, so the test stops the server with that PATCH in
// flight.
type armedPatch struct{ armed atomic.Pointer[chan struct{}] }

func (p *armedPatch) arm() <-chan struct{} {
	ch := make(chan struct{})
	p.armed.Store(&ch)
	return ch
}

func (p *armedPatch) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPatch {
		r = r.WithContext(httptrace.WithClientTrace(r.Context(), &httptrace.ClientTrace{
			WroteRequest: func(httptrace.WroteRequestInfo) {
				if ch := p.armed.Swap(nil); ch != nil {
					close(*ch)
				}
			},
		}))
	}
	return http.DefaultTransport.RoundTrip(r)
}
