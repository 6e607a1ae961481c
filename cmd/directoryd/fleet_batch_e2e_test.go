package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service/state/redisstate"
	"github.com/procore-directory/procore-directory/service/state/redisstate/redistest"
)

// heldLink is the network between one replica and Procore (a reverse
// proxy to the emulator). It holds each sync request for a while, as a
// slow Procore would: after the emulator applied it and before its answer
// goes back (afterApply), or before it reaches the emulator at all. A
// replica killed while a request is held has had its chunk applied
// without learning it, or never sent, and its claim marked sending either
// way.
type heldLink struct {
	url        string
	hold       time.Duration
	afterApply bool

	mu   sync.Mutex
	held [][]int64     // the user ids of each sync request held
	wake chan struct{} // signalled at each held request
}

func newHeldLink(t *testing.T, emuURL string, hold time.Duration, afterApply bool) *heldLink {
	t.Helper()
	target, err := url.Parse(emuURL)
	if err != nil {
		t.Fatal(err)
	}
	l := &heldLink{hold: hold, afterApply: afterApply, wake: make(chan struct{}, 1)}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = l
	rp.ErrorLog = log.New(io.Discard, "", 0) // a killed replica's requests fail: expected
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	l.url = srv.URL
	return l
}

// RoundTrip forwards r, holding a sync request before or after.
func (l *heldLink) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodPatch || !strings.HasSuffix(r.URL.Path, "/users/sync") {
		return http.DefaultTransport.RoundTrip(r)
	}
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if !l.afterApply {
		if err := l.holdSync(r, body); err != nil {
			return nil, err // the replica is gone: nothing reaches Procore
		}
		return http.DefaultTransport.RoundTrip(r)
	}
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil {
		_ = l.holdSync(r, body)
	}
	return resp, err
}

// holdSync records the request's user ids and waits the hold, or until
// the replica that sent it is gone (its error).
func (l *heldLink) holdSync(r *http.Request, body []byte) error {
	var b struct {
		Updates []struct {
			ID int64 `json:"id"`
		} `json:"updates"`
	}
	_ = json.Unmarshal(body, &b)
	ids := make([]int64, len(b.Updates))
	for i, u := range b.Updates {
		ids[i] = u.ID
	}
	l.mu.Lock()
	l.held = append(l.held, ids)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
	t := time.NewTimer(l.hold)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-r.Context().Done():
		return r.Context().Err()
	}
}

// firstHeld waits for the first held sync request and returns its ids.
func (l *heldLink) firstHeld(t *testing.T, timeout time.Duration) []int64 {
	t.Helper()
	select {
	case <-l.wake:
	case <-time.After(timeout):
		t.Fatalf("no sync request went through this replica within %v", timeout)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held[0]
}

// batchSeed is an emulator seed: the built-in Directory Admin client and
// n users of company 8089, ids from firstBatchUser.
func batchSeed(t *testing.T, n int) string {
	t.Helper()
	users := make([]map[string]any, n)
	for i := range users {
		id := firstBatchUser + i
		users[i] = map[string]any{"id": id, "first_name": "Fleet", "last_name": fmt.Sprintf("User%d", id),
			"email_address": fmt.Sprintf("fleet.user%d@summitridge.example", id), "job_title": "Before", "is_active": true}
	}
	b, err := json.Marshal(map[string]any{
		"oauth_clients": []map[string]any{{"client_id": "directory-admin-app", "client_secret": "admin-secret-4f2a", "directory_admin": true, "company_ids": []int{8089}}},
		"companies":     []map[string]any{{"id": 8089, "name": "Summit Ridge Construction", "users": users}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, t.TempDir(), "seed.json", b)
}

const firstBatchUser = 20001

// itemOutcome is what the operation says of one item.
type itemOutcome struct {
	code   codes.Code
	reason string
}

// outcomes reads each item's outcome from a done operation: failed
// items are in the metadata's failed_requests; the others succeeded.
func outcomes(t *testing.T, op *longrunningpb.Operation, n int) ([]itemOutcome, *directoryv1.BatchUpdateCompanyUsersMetadata) {
	t.Helper()
	md := &directoryv1.BatchUpdateCompanyUsersMetadata{}
	if err := op.GetMetadata().UnmarshalTo(md); err != nil {
		t.Fatalf("metadata: %v", err)
	}
	out := make([]itemOutcome, n)
	for i := range out {
		st, failed := md.GetFailedRequests()[int32(i)]
		if !failed {
			continue
		}
		out[i].code = codes.Code(st.GetCode())
		for _, d := range st.GetDetails() {
			info := &errdetails.ErrorInfo{}
			if d.UnmarshalTo(info) == nil {
				out[i].reason = info.GetReason()
			}
		}
	}
	return out, md
}

// TestFleetBatchReplicaKilled is issue 23's fleet must-show: three
// replicas share one Redis and one emulator process; a batch is submitted
// to replica 0, which is SIGKILLed while one of its chunks is in flight,
// marked sending: applied by Procore and not yet answered, or not yet
// arrived. The batch still completes through the other two: the killed
// replica's chunk is claimed after the lease and read back rather than
// resent blind, and every item's outcome is truthful against the
// emulator's request log (its Applied ids): OK was applied exactly once,
// a definite failure never, no user applied twice. Get and Wait are
// answered by the surviving replicas.
func TestFleetBatchReplicaKilled(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		afterApply bool
	}{
		{"applied, answer held", true},
		{"held before Procore", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			killedMidBatch(t, tc.afterApply)
		})
	}
}

func killedMidBatch(t *testing.T, afterApply bool) {
	srv := redistest.Start(t)
	bin := buildBinaries(t)
	const (
		items = 240
		chunk = 20
		lease = 2 * time.Second
		hold  = 400 * time.Millisecond
	)
	emu := start(t, filepath.Join(bin, "procore-emulator"), "--addr", "127.0.0.1:0", "--hourly-limit", "0", "--spike-limit", "0",
		"--seed", batchSeed(t, items+1)) // the last user is the warm-up's
	emuURL := emu.waitLine(t, emulatorRE)[1]

	ca := newTestCA(t, "fleet batch CA")
	dir := t.TempDir()
	srvCert, srvKey := ca.issue(t, "directoryd", "", true)
	cert, key := ca.issue(t, "hr-sync", hrSyncID, false)
	args := []string{"--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0",
		"--token-url", emuURL + "/oauth/token", "--auth", "client-credentials",
		"--tls-cert", writeFile(t, dir, "server.pem", srvCert), "--tls-key", writeFile(t, dir, "server-key.pem", srvKey),
		"--client-ca", writeFile(t, dir, "ca.pem", ca.pem), "--policy", writeFile(t, dir, "policy.yaml", []byte(securePolicy)),
		"--redis-url", srv.URL(), "--redis-timeout", "5s",
		"--sync-batch-size", fmt.Sprint(chunk), "--batch-lease", lease.String()}
	env := []string{"PROCORE_CLIENT_ID=directory-admin-app", "PROCORE_CLIENT_SECRET=admin-secret-4f2a"}
	type replica struct {
		proc *process
		link *heldLink
		dir  directoryv1.DirectoryServiceClient
		ops  longrunningpb.OperationsClient
	}
	replicas := make([]replica, 3)
	for i := range replicas {
		link := newHeldLink(t, emuURL, hold, afterApply)
		p := startEnv(t, filepath.Join(bin, "directoryd"), env, append([]string{"--upstream-url", link.url}, args...)...)
		addrs := p.waitLine(t, listeningRE)
		tlsClient := &http.Client{Transport: &http.Transport{TLSClientConfig: ca.clientTLS(t, cert, key)}}
		t.Cleanup(tlsClient.CloseIdleConnections)
		waitSharedVia(t, tlsClient, "https://"+addrs[2], true)
		conn, err := grpc.NewClient(addrs[1], grpc.WithTransportCredentials(credentials.NewTLS(ca.clientTLS(t, cert, key))))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		replicas[i] = replica{proc: p, link: link, dir: directoryv1.NewDirectoryServiceClient(conn), ops: longrunningpb.NewOperationsClient(conn)}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	req := &directoryv1.BatchUpdateCompanyUsersRequest{CompanyId: 8089}
	title := func(id int64) string { return fmt.Sprintf("Fleet %d", id) }
	for i := range items {
		id := int64(firstBatchUser + i)
		req.Requests = append(req.Requests, &directoryv1.UpdateCompanyUserRequest{Id: id,
			User: &directoryv1.CompanyUser{JobTitle: proto.String(title(id))}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"job_title"}}})
	}
	// One single update first, through replica 1: the fleet's admission
	// then knows the credential has been answered. Without it, when the
	// batch's first request is the credential's first and its replica is
	// killed, that attempt is the probe of an unknown window and every
	// replica waits out its admission lease (redisbudget.DefaultLease, a
	// minute) before sending again: a stall, not a loss.
	warm := int64(firstBatchUser + items)
	if _, err := replicas[1].dir.UpdateCompanyUser(ctx, &directoryv1.UpdateCompanyUserRequest{CompanyId: 8089, Id: warm,
		User: &directoryv1.CompanyUser{JobTitle: proto.String("Warm-up")}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"job_title"}}}); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	op, err := replicas[0].dir.BatchUpdateCompanyUsers(ctx, req)
	if err != nil {
		t.Fatal(err)
	}

	// Replica 0 holds a chunk that Procore applied and has not answered.
	killedChunk := replicas[0].link.firstHeld(t, 30*time.Second)
	if err := replicas[0].proc.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = replicas[0].proc.cmd.Wait()
	killedAt := time.Now()

	// Wait through replica 1 until done; then Get through replica 2.
	for !op.GetDone() {
		op, err = replicas[1].ops.WaitOperation(ctx, &longrunningpb.WaitOperationRequest{Name: op.GetName(), Timeout: durationpb.New(10 * time.Second)})
		if err != nil {
			t.Fatalf("Wait through replica 1: %v", err)
		}
	}
	doneAt := time.Now()
	// The killed replica's users stay locked until their lock lease runs
	// out; its chunk is claimable after the batch lease.
	if d, bound := doneAt.Sub(killedAt), lease+redisstate.DefaultLockLease+15*time.Second; d > bound {
		t.Errorf("the batch completed %v after the kill, more than %v", d, bound)
	}
	got, err := replicas[2].ops.GetOperation(ctx, &longrunningpb.GetOperationRequest{Name: op.GetName()})
	if err != nil {
		t.Fatalf("Get through replica 2: %v", err)
	}
	if !proto.Equal(got, op) {
		t.Errorf("replica 2's Get differs from replica 1's Wait:\n%v\n%v", got, op)
	}

	// The emulator's truth: how often each user was written.
	applied := map[int64]int{}
	readBack := map[int64]bool{} // users read by a GET naming them (path or filter)
	syncs, reads := 0, 0
	for _, r := range requestLog(t, emuURL) {
		switch {
		case r.Method == http.MethodPatch && strings.HasSuffix(r.Path, "/users/sync"):
			syncs++
			for _, id := range r.Applied {
				applied[id]++
			}
		case r.Method == http.MethodPatch && r.Status == http.StatusOK:
			var id int64
			if _, err := fmt.Sscanf(r.Path[strings.LastIndex(r.Path, "/")+1:], "%d", &id); err == nil {
				applied[id]++
			}
		case r.Method == http.MethodGet:
			reads++
			for _, id := range killedChunk {
				if strings.HasSuffix(r.Path, fmt.Sprintf("/%d", id)) || strings.Contains(r.Query, fmt.Sprint(id)) {
					readBack[id] = true
				}
			}
		}
	}
	outs, md := outcomes(t, op, items)
	counts := map[string]int{}
	for i, o := range outs {
		id := int64(firstBatchUser + i)
		counts[o.code.String()+" "+o.reason]++
		switch n := applied[id]; {
		case n > 1:
			t.Errorf("user %d (item %d) applied %d times", id, i, n)
		case o.code == codes.OK && n != 1:
			t.Errorf("item %d told OK, but user %d was not applied", i, id)
		case o.reason == "UPSTREAM_OUTCOME_UNKNOWN":
		case o.code != codes.OK && n != 0:
			t.Errorf("item %d told %v %s (not applied), but user %d was applied", i, o.code, o.reason, id)
		}
	}
	// The killed replica's chunk is read back. Applied, it is told OK
	// and not resent; not arrived, it is told as the read-back finds it
	// (checked above). No other chunk is sent twice.
	for _, id := range killedChunk {
		if o := outs[id-firstBatchUser]; afterApply && o.code != codes.OK {
			t.Errorf("user %d of the killed replica's applied chunk: told %v %s", id, o.code, o.reason)
		}
		if !readBack[id] {
			t.Errorf("user %d of the killed replica's chunk was not read back", id)
		}
	}
	if want := items / chunk; syncs != want && (afterApply || syncs != want-1) {
		t.Errorf("%d sync requests for %d chunks", syncs, want)
	}
	if md.GetPending() != 0 || int(md.GetSucceeded()+md.GetFailed()) != items {
		t.Errorf("metadata: %d succeeded, %d failed, %d pending of %d", md.GetSucceeded(), md.GetFailed(), md.GetPending(), items)
	}
	t.Logf("%d items in chunks of %d, lease %v: done %v after creation (metadata), Wait answered %v after submission, %v after the kill; outcomes %v; "+
		"Procore: %d sync requests, %d reads; killed chunk %d users; metadata procore_requests %d",
		items, chunk, lease, md.GetUpdateTime().AsTime().Sub(md.GetCreateTime().AsTime()).Round(time.Millisecond), doneAt.Sub(started).Round(time.Millisecond), doneAt.Sub(killedAt).Round(time.Millisecond), counts,
		syncs, reads, len(killedChunk), md.GetProcoreRequests())
}
