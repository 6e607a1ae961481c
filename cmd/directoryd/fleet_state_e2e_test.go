package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service/state/redisstate/redistest"
)

// emulatorPatches returns the bodies of the PATCHes the emulator process
// received, in the order it logged them.
func emulatorPatches(t *testing.T, emuURL string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, r := range requestLog(t, emuURL) {
		if r.Method != http.MethodPatch {
			continue
		}
		var b struct {
			User map[string]any `json:"user"`
		}
		_ = json.Unmarshal(r.Body, &b)
		out = append(out, b.User)
	}
	return out
}

// TestFleetIdempotency: the same request_id sent to two replicas that
// share Redis, at once and one after the other, gives exactly one PATCH,
// and both callers get the same answer.
func TestFleetIdempotency(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	// 300 ms per Procore request: the first call is still running when the
	// second replica is asked.
	f := startFleet(t, 2, srv.URL(), []string{"--hourly-limit", "0", "--spike-limit", "0", "--partial-bodies", "--latency", "300ms"},
		"--required-fields", "masked-only")
	req := func(id, title string) *directoryv1.UpdateCompanyUserRequest {
		return &directoryv1.UpdateCompanyUserRequest{CompanyId: 8089, Id: 1001, RequestId: id,
			User: &directoryv1.CompanyUser{JobTitle: proto.String(title)}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"job_title"}}}
	}
	ctx, cancel := context.WithTimeout(f.ctx(context.Background()), 20*time.Second)
	defer cancel()

	// At once, one call per replica.
	const concurrentID = "7b1f0c2e-3d4a-4b5c-8d6e-9f0a1b2c3d4e"
	answers := make([]*directoryv1.CompanyUser, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, c := range f.clients {
		wg.Go(func() { answers[i], errs[i] = c.UpdateCompanyUser(ctx, req(concurrentID, "At once")) })
	}
	wg.Wait()
	for i := range errs {
		if errs[i] != nil {
			t.Fatalf("replica %d: %v", i, errs[i])
		}
	}
	if !proto.Equal(answers[0], answers[1]) {
		t.Error("the two replicas answered the same request_id differently")
	}
	if n := len(emulatorPatches(t, f.emuURL)); n != 1 {
		t.Fatalf("%d PATCHes for one request_id sent to two replicas at once, want 1", n)
	}

	// One after the other: replica 0, then replica 1.
	const sequentialID = "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f"
	first, err := f.clients[0].UpdateCompanyUser(ctx, req(sequentialID, "One after the other"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := f.clients[1].UpdateCompanyUser(ctx, req(sequentialID, "One after the other"))
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(first, again) {
		t.Error("replica 1 answered the repeat differently from replica 0's first answer")
	}
	if n := len(emulatorPatches(t, f.emuURL)); n != 2 {
		t.Fatalf("%d PATCHes after two request_ids, want 2", n)
	}
}

// TestFleetRedisKilled: two replicas under load lose Redis mid-run, then
// get it back. No call fails because of it, each replica reports the
// degraded state while Redis is gone, and the shared mode resumes.
func TestFleetRedisKilled(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	f := startFleet(t, 2, srv.URL(), []string{"--hourly-limit", "0", "--spike-limit", "0", "--partial-bodies"},
		"--required-fields", "masked-only")
	for i := range f.https {
		waitShared(t, f.https[i], true)
	}
	var failures []error
	var mu sync.Mutex
	done := make(chan map[string]int, 1)
	go func() {
		done <- f.load(t, 4, 6*time.Second, func(err error) {
			mu.Lock()
			failures = append(failures, err)
			mu.Unlock()
		})
	}()
	// The load's shape: Redis is gone for the middle two seconds.
	time.Sleep(2 * time.Second)
	srv.Kill()
	for i := range f.https {
		waitShared(t, f.https[i], false)
	}
	time.Sleep(time.Second)
	srv.Restart()
	counts := <-done
	mu.Lock()
	defer mu.Unlock()
	for _, err := range failures {
		t.Errorf("a call failed while Redis went away and came back: %v", err)
	}
	if counts["OK"] == 0 {
		t.Fatalf("no call succeeded: %v", counts)
	}
	for i := range f.https {
		waitShared(t, f.https[i], true)
	}
	t.Logf("answers %v", counts)
}

// waitShared waits until a replica's /readyz and its
// directoryd_shared_state_up metric say the shared state is up (shared)
// or degraded (!shared); readiness itself stays 200 either way. The
// metric is set just after the state flips, so both are polled.
func waitShared(t *testing.T, httpAddr string, shared bool) {
	t.Helper()
	waitSharedVia(t, http.DefaultClient, "http://"+httpAddr, shared)
}

// waitSharedVia is waitShared through client, at base (a replica serving
// HTTPS with client certificates needs a client that presents one).
func waitSharedVia(t *testing.T, client *http.Client, base string, shared bool) {
	t.Helper()
	get := func(path string) (int, string) {
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	want := "directoryd_shared_state_up 0"
	if shared {
		want = "directoryd_shared_state_up 1"
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, body := get("/readyz")
		if code != http.StatusOK {
			t.Fatalf("/readyz %d %s: a replica without Redis must stay ready", code, body)
		}
		_, metrics := get("/metrics")
		if degraded := strings.Contains(body, "degraded"); degraded != shared && strings.Contains(metrics, "\n"+want+"\n") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz and /metrics never both said shared=%v: %s (metric %q)", shared, body, want)
		}
		time.Sleep(50 * time.Millisecond) // polling an observable state, with a deadline
	}
}

// TestFleetEmailRace is the non-admin e-mail race against two replicas in
// client-credentials mode (directoryd's Directory Admin credential, mutual
// TLS and the policy): an admin changes email_address through one
// replica while a caller without admin rights updates the job title
// through the other, in fill mode (a GET, then a PATCH that resends the
// e-mail it read). The shared per-user lock keeps each GET and its PATCH
// together, so the e-mail in the PATCHes Procore applies only ever moves
// forward through the admin's values, and ends at the admin's last.
func TestFleetEmailRace(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	bin := buildBinaries(t)
	emu := start(t, filepath.Join(bin, "procore-emulator"), "--addr", "127.0.0.1:0", "--hourly-limit", "0", "--spike-limit", "0", "--latency", "5ms")
	emuURL := emu.waitLine(t, emulatorRE)[1]
	ca := newTestCA(t, "fleet test CA")
	dir := t.TempDir()
	srvCert, srvKey := ca.issue(t, "directoryd", "", true)
	args := []string{"--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0",
		"--upstream-url", emuURL, "--token-url", emuURL + "/oauth/token", "--auth", "client-credentials",
		"--tls-cert", writeFile(t, dir, "server.pem", srvCert), "--tls-key", writeFile(t, dir, "server-key.pem", srvKey),
		"--client-ca", writeFile(t, dir, "ca.pem", ca.pem), "--policy", writeFile(t, dir, "policy.yaml", []byte(securePolicy)),
		"--required-fields", "fill", "--redis-url", srv.URL(), "--redis-timeout", "5s"}
	env := []string{"PROCORE_CLIENT_ID=directory-admin-app", "PROCORE_CLIENT_SECRET=admin-secret-4f2a"}
	dial := func(p *process, cert, key []byte) directoryv1.DirectoryServiceClient {
		addrs := p.waitLine(t, listeningRE)
		tlsClient := &http.Client{Transport: &http.Transport{TLSClientConfig: ca.clientTLS(t, cert, key)}}
		t.Cleanup(tlsClient.CloseIdleConnections)
		waitSharedVia(t, tlsClient, "https://"+addrs[2], true)
		conn, err := grpc.NewClient(addrs[1], grpc.WithTransportCredentials(credentials.NewTLS(ca.clientTLS(t, cert, key))))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return directoryv1.NewDirectoryServiceClient(conn)
	}
	adminCert, adminKey := ca.issue(t, "hr-sync", hrSyncID, false)
	fieldCert, fieldKey := ca.issue(t, fieldAppCN, "", false)
	admin := dial(startEnv(t, filepath.Join(bin, "directoryd"), env, args...), adminCert, adminKey)
	field := dial(startEnv(t, filepath.Join(bin, "directoryd"), env, args...), fieldCert, fieldKey)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const changes = 30
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(done)
		for i := range changes {
			_, err := admin.UpdateCompanyUser(ctx, &directoryv1.UpdateCompanyUserRequest{CompanyId: 8089, Id: 1001,
				User: &directoryv1.CompanyUser{EmailAddress: proto.String(fmt.Sprintf("maria.%d@summitridge.example", i))}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"email_address"}}})
			if err != nil {
				t.Errorf("admin: %v", err)
				return
			}
		}
	})
	for w := range 3 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				_, err := field.UpdateCompanyUser(ctx, &directoryv1.UpdateCompanyUserRequest{CompanyId: 8089, Id: 1001,
					User: &directoryv1.CompanyUser{JobTitle: proto.String(fmt.Sprintf("w%d-%d", w, i))}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"job_title"}}})
				if err != nil {
					t.Errorf("non-admin: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()

	// The e-mail each PATCH carried, in the order Procore took them: the
	// admin's sequence numbers never go back.
	seq := regexp.MustCompile(`^maria\.(\d+)@summitridge\.example$`)
	last, nonAdmin := -1, 0
	for i, body := range emulatorPatches(t, emuURL) {
		email, _ := body["email_address"].(string)
		m := seq.FindStringSubmatch(email)
		if m == nil {
			if last >= 0 {
				t.Fatalf("PATCH %d sent e-mail %q after the admin had set one", i+1, email)
			}
			continue
		}
		n, _ := strconv.Atoi(m[1])
		if n < last {
			t.Fatalf("PATCH %d put back e-mail %d after the admin had set %d", i+1, n, last)
		}
		last = n
		if _, title := body["job_title"]; title {
			nonAdmin++
		}
	}
	if last != changes-1 {
		t.Fatalf("the last e-mail sent is the admin's %d, want %d", last, changes-1)
	}
	if nonAdmin == 0 {
		t.Fatal("no non-admin PATCH raced the admin's changes")
	}
	t.Logf("%d non-admin PATCHes carried an admin's e-mail, in order", nonAdmin)
}
