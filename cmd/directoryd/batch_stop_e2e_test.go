package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
)

// TestSIGTERMMidBatch runs the real binary in memory mode against the
// real emulator (1 s a request), submits a batch of two chunks, and sends
// SIGTERM as soon as it is accepted, while the first chunk's sync is in
// flight. A WaitOperation in flight at SIGTERM gets the operation, ended
// by the stop with its progress: the chunk in flight finished and was
// recorded (its items OK, as the emulator applied them), the chunk never
// claimed was never sent (its items UNAVAILABLE, SHUTTING_DOWN), and the
// process exits cleanly. Every outcome is checked against the emulator's
// log, so the test is truthful whichever moment the signal lands at.
func TestSIGTERMMidBatch(t *testing.T) {
	t.Parallel()
	bin := buildBinaries(t)
	emu := start(t, filepath.Join(bin, "procore-emulator"), "--addr", "127.0.0.1:0", "--hourly-limit", "0", "--spike-limit", "0",
		"--latency", "1s", "--partial-bodies")
	emuURL := emu.waitLine(t, emulatorRE)[1]
	d := start(t, filepath.Join(bin, "directoryd"), "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--upstream-url", emuURL,
		"--sync-batch-size", "2", "--shutdown-timeout", "20s")
	listening := d.waitLine(t, listeningRE)
	grpcAddr, httpAddr := listening[1], listening[2]
	tok := token(t, emuURL, "directory-admin-app", "admin-secret-4f2a")
	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok)
	req := &directoryv1.BatchUpdateCompanyUsersRequest{CompanyId: 8089}
	users := []int64{1001, 1002, 1003, 1004}
	for _, id := range users {
		req.Requests = append(req.Requests, &directoryv1.UpdateCompanyUserRequest{Id: id,
			User: &directoryv1.CompanyUser{JobTitle: ptrTo(fmt.Sprintf("sigterm-%d", id))}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"job_title"}}})
	}
	op, err := directoryv1.NewDirectoryServiceClient(conn).BatchUpdateCompanyUsers(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	waited := make(chan *longrunningpb.Operation, 1)
	waitErr := make(chan error, 1)
	go func() {
		done, err := longrunningpb.NewOperationsClient(conn).WaitOperation(ctx,
			&longrunningpb.WaitOperationRequest{Name: op.GetName(), Timeout: durationpb.New(30 * time.Second)})
		waited <- done
		waitErr <- err
	}()
	// SIGTERM only once the server is handling the Wait: a Wait still on
	// its way when the server stops taking calls would be refused, which
	// says nothing of the stop's truthfulness.
	waitStarted(t, httpAddr, "WaitOperation", 1)
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- d.cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("directoryd exit after SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("directoryd did not exit within 20 s of SIGTERM")
	}
	done := <-waited
	if err := <-waitErr; err != nil || !done.GetDone() {
		t.Fatalf("WaitOperation in flight at SIGTERM: %v, done %v", err, done.GetDone())
	}
	md := &directoryv1.BatchUpdateCompanyUsersMetadata{}
	if err := done.GetMetadata().UnmarshalTo(md); err != nil {
		t.Fatal(err)
	}
	applied, syncs := map[int64]int{}, 0
	for _, r := range requestLog(t, emuURL) {
		if r.Path == "/rest/v1.3/companies/8089/users/sync" {
			syncs++
			if r.Status != 200 {
				t.Errorf("a sync was cut off: status %d", r.Status)
			}
			for _, id := range r.Applied {
				applied[id]++
			}
		}
	}
	if md.GetSucceeded()+md.GetFailed() != int32(len(users)) || md.GetPending() != 0 {
		t.Errorf("metadata %v", md)
	}
	for i, id := range users {
		st, failed := md.GetFailedRequests()[int32(i)]
		switch {
		case applied[id] > 1:
			t.Errorf("user %d applied %d times", id, applied[id])
		case !failed && applied[id] == 0:
			t.Errorf("user %d told OK but not applied", id)
		case failed && (applied[id] > 0 || codes.Code(st.GetCode()) != codes.Unavailable || itemReason(st) != "SHUTTING_DOWN"):
			t.Errorf("user %d: %v (applied %d), want UNAVAILABLE SHUTTING_DOWN and not applied", id, st, applied[id])
		}
	}
	t.Logf("SIGTERM with %d of 2 chunks sent: %d succeeded, %d failed (SHUTTING_DOWN); operation error %v",
		syncs, md.GetSucceeded(), md.GetFailed(), done.GetError().GetMessage())
	if syncs > 1 {
		t.Errorf("%d syncs sent: the chunk not claimed at SIGTERM was sent", syncs)
	}
}

// itemReason is the ErrorInfo reason of an item's status.
func itemReason(st *spb.Status) string {
	r, _ := reasonOf(status.FromProto(st).Err())
	return r
}

// waitStarted polls directoryd's /metrics until its gRPC server has
// started handling n calls of method (grpc_server_started_total counts a
// call as its interceptors begin, on the server).
func waitStarted(t *testing.T, httpAddr, method string, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + httpAddr + "/metrics")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			for _, line := range strings.Split(string(body), "\n") {
				if !strings.HasPrefix(line, "grpc_server_started_total{") || !strings.Contains(line, `grpc_method="`+method+`"`) {
					continue
				}
				if v, err := strconv.ParseFloat(line[strings.LastIndex(line, " ")+1:], 64); err == nil && v >= float64(n) {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("directoryd never started handling %d %s calls (last error: %v)", n, method, err)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition, not standing in for one
	}
}
