package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service/audit/audittest"
)

// joinUsers is how many users the run writes: the first half by single
// updates, the rest by one batch.
const joinUsers = 32

// writeJoinSeed writes audittest.Seed's fixture of joinUsers users.
func writeJoinSeed(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(path, audittest.Seed(t, joinUsers), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestAuditJoinsProcoreAcrossSIGTERM runs directoryd as a process with a
// required file trail against an emulator process that fails at random
// (5xx, connections dropped, truncated 200s, 200 ms latency): single
// updates and a batch (chunks of 4, by sync) are in flight when directoryd
// gets SIGTERM. Once it has exited, the trail is joined with Procore's
// request log and each user's record (audittest.Join): every user Procore
// got a write for has a write-ahead record and exactly one final event
// with the fields it got, and no outcome contradicts the record.
func TestAuditJoinsProcoreAcrossSIGTERM(t *testing.T) {
	t.Parallel()
	bin := buildBinaries(t)
	emu := start(t, filepath.Join(bin, "procore-emulator"), "--addr", "127.0.0.1:0", "--seed", writeJoinSeed(t),
		"--hourly-limit", "0", "--spike-limit", "0", "--partial-bodies", "--latency", "200ms",
		"--error-rate", "0.15", "--drop-rate", "0.1", "--malformed-rate", "0.1", "--rand-seed", "24")
	emuURL := emu.waitLine(t, emulatorRE)[1]
	trail := filepath.Join(t.TempDir(), "audit.jsonl")
	d := start(t, filepath.Join(bin, "directoryd"), "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--upstream-url", emuURL,
		"--required-fields", "masked-only", "--audit", "file:"+trail, "--audit-required", "--sync-batch-size", "4", "--shutdown-timeout", "20s")
	listening := d.waitLine(t, listeningRE)
	conn, err := grpc.NewClient(listening[1], grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tok := token(t, emuURL, "directory-admin-app", "admin-secret-4f2a")
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok)
	client := directoryv1.NewDirectoryServiceClient(conn)
	title := func(id int64) string { return fmt.Sprintf("joined-%d", id) }
	update := func(id int64) *directoryv1.UpdateCompanyUserRequest {
		return &directoryv1.UpdateCompanyUserRequest{CompanyId: 8089, Id: id,
			User: &directoryv1.CompanyUser{JobTitle: ptrTo(title(id))}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"job_title"}}}
	}

	batch := &directoryv1.BatchUpdateCompanyUsersRequest{CompanyId: 8089}
	for id := int64(joinUsers/2 + 1); id <= joinUsers; id++ {
		req := update(id)
		req.CompanyId = 0
		batch.Requests = append(batch.Requests, req)
	}
	op, err := client.BatchUpdateCompanyUsers(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	answers := make(chan string, joinUsers)
	wg.Go(func() {
		_, err := longrunningpb.NewOperationsClient(conn).WaitOperation(ctx,
			&longrunningpb.WaitOperationRequest{Name: op.GetName(), Timeout: durationpb.New(30 * time.Second)})
		answers <- "WaitOperation: " + status.Code(err).String()
	})
	for id := int64(1); id <= joinUsers/2; id++ {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			_, err := client.UpdateCompanyUser(cctx, update(id))
			answers <- status.Code(err).String()
		})
	}
	// SIGTERM once the server is handling every call: the stop is under
	// test, not a call refused on its way in.
	waitStarted(t, listening[2], "UpdateCompanyUser", joinUsers/2)
	waitStarted(t, listening[2], "WaitOperation", 1)
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Wait(); err != nil {
		t.Errorf("directoryd exit after SIGTERM: %v", err)
	}
	wg.Wait()
	close(answers)
	counts := map[string]int{}
	for a := range answers {
		counts[a]++
	}

	carried := audittest.Carried(t, requestLog(t, emuURL))
	titles := readJobTitles(t, emuURL, tok)
	users := audittest.Join(t, carried, audittest.ReadFile(t, trail), func(id int64) bool { return titles[id] == title(id) })
	t.Logf("answers %v; Procore got writes for %d of %d users", counts, users, joinUsers)
	if users < joinUsers/2 {
		t.Errorf("Procore got writes for %d users, want at least the %d single updates in flight at SIGTERM", users, joinUsers/2)
	}
}

// readJobTitles reads every user's job_title through the emulator's API,
// at once, each trying again through the random faults (a GET is safe to
// repeat).
func readJobTitles(t *testing.T, emuURL, tok string) map[int64]string {
	t.Helper()
	var (
		mu  sync.Mutex
		out = map[int64]string{}
		wg  sync.WaitGroup
	)
	for id := int64(1); id <= joinUsers; id++ {
		wg.Go(func() {
			title, err := readJobTitle(emuURL, tok, id)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("user %d: %v", id, err)
			}
			out[id] = title
		})
	}
	wg.Wait()
	return out
}

func readJobTitle(emuURL, tok string, id int64) (string, error) {
	var last string
	for range 100 {
		req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/rest/v1.3/companies/8089/users/%d", emuURL, id), nil)
		if err != nil {
			return "", err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Procore-Company-Id", "8089")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			last = err.Error()
			continue
		}
		var u struct {
			JobTitle *string `json:"job_title"`
		}
		err = json.NewDecoder(resp.Body).Decode(&u)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK && err == nil {
			if u.JobTitle == nil {
				return "", nil
			}
			return *u.JobTitle, nil
		}
		last = fmt.Sprintf("status %d (%v)", resp.StatusCode, err)
	}
	return "", fmt.Errorf("no readable answer in 100 tries, the last: %s", last)
}
