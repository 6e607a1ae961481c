package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
)

// listeningRE is the line directoryd prints once it serves, with the
// addresses it bound.
var listeningRE = regexp.MustCompile(`^directoryd listening: grpc=(\S+) http=(\S+)$`)

// startDirectoryd runs `directoryd --dev` (the service over the built-in
// Procore emulator) on loopback ports the kernel picks, and returns its
// gRPC address once it serves.
func startDirectoryd(t *testing.T) string {
	t.Helper()
	cmd := exec.Command(directorydBinary, "--dev", "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("directoryd stderr:\n%s", stderr.String())
		}
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listeningRE.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		close(addr)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case a, ok := <-addr:
		if !ok {
			t.Fatal("directoryd exited before listening")
		}
		return a
	case <-time.After(30 * time.Second):
		t.Fatal("directoryd printed no listening line in 30 s")
	}
	return ""
}

// TestBatchAgainstDirectoryd runs directoryctl as a process against
// `directoryd --dev` as a process: CSV and JSONL files, some refused at
// submission (exit 2, nothing sent: no operation, the users unchanged),
// some with items that fail one by one (an unknown user: NOT_FOUND in the
// results file, exit 1) while the others are applied, read back over gRPC,
// and --validate-only (nothing applied). The cases share one directoryd and
// run in order, each on its own users.
func TestBatchAgainstDirectoryd(t *testing.T) {
	addr := startDirectoryd(t)
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	users := directoryv1.NewDirectoryServiceClient(conn)
	ops := longrunningpb.NewOperationsClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	title := func(id int64) string {
		t.Helper()
		u, err := users.GetCompanyUser(ctx, &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: id})
		if err != nil {
			t.Fatalf("read back user %d: %v", id, err)
		}
		return u.GetJobTitle()
	}
	operations := func() int {
		t.Helper()
		resp, err := ops.ListOperations(ctx, &longrunningpb.ListOperationsRequest{PageSize: 100})
		if err != nil {
			t.Fatal(err)
		}
		return len(resp.GetOperations())
	}

	tests := []struct {
		name, file, body string
		args             []string // before FILE, after `batch --plaintext --addr ADDR --company-id 8089`
		wantCode         int
		wantResults      [][]string       // per line of results.jsonl: substrings
		wantStdout       []string         // substrings
		wantStderr       []string         // substrings
		wantTitles       map[int64]string // read back after; "" means unchanged
		wantOps          int              // operations started
	}{
		{
			name: "csv: an unknown user fails NOT_FOUND, the other is applied, exit 1", file: "updates.csv",
			body:     "id,job_title,city\n1001,Site Lead,Salem\n999999,Nobody,Nowhere\n",
			args:     []string{"--results", "results.jsonl"},
			wantCode: 1,
			wantResults: [][]string{
				{`"index":0,"line":2,"id":1001,"status":"OK"`, `"job_title":"Site Lead"`, `"city":"Salem"`},
				{`"index":1,"line":3,"id":999999,"status":"NOT_FOUND","reason":"UPSTREAM_NOT_FOUND"`},
			},
			wantStderr: []string{"2 updates of company 8089", "operations/", "1 updated, 1 failed"},
			wantTitles: map[int64]string{1001: "Site Lead"}, wantOps: 1,
		},
		{
			name: "csv: refused at submission (a user named twice), exit 2, nothing sent", file: "dup.csv",
			body:       "id,job_title\n1002,Lead\n1002,Estimator II\n",
			wantCode:   2,
			wantStderr: []string{"the batch was refused, nothing was sent: INVALID_ARGUMENT", "dup.csv:3: "},
			wantTitles: map[int64]string{1002: ""},
		},
		{
			name: "jsonl: refused at submission (an invalid email), exit 2, nothing sent", file: "bad.jsonl",
			body: `{"id": 1002, "user": {"job_title": "Estimator II"}, "update_mask": "jobTitle"}
{"id": 1003, "user": {"email_address": "bad@"}, "update_mask": {"paths": ["email_address"]}}
`,
			args:       []string{"--results", "results.jsonl"},
			wantCode:   2,
			wantStderr: []string{"the batch was refused, nothing was sent: INVALID_ARGUMENT", "bad.jsonl:2: user.email_address"},
			wantTitles: map[int64]string{1002: "", 1003: ""},
		},
		{
			name: "jsonl: an unknown user fails NOT_FOUND, the others are applied, exit 1", file: "updates.jsonl",
			body: `{"id": 1002, "user": {"job_title": "Estimator II"}, "update_mask": "jobTitle"}
{"id": 424242, "user": {"job_title": "Nobody"}, "update_mask": {"paths": ["job_title"]}}
{"company_id": 8089, "id": 1003, "user": {"job_title": "Foreman"}}
`,
			args:     []string{"--results", "results.jsonl"},
			wantCode: 1,
			wantResults: [][]string{
				{`"index":0,"line":1,"id":1002,"status":"OK"`, `"job_title":"Estimator II"`},
				{`"index":1,"line":2,"id":424242,"status":"NOT_FOUND","reason":"UPSTREAM_NOT_FOUND"`},
				{`"index":2,"line":3,"id":1003,"status":"OK"`, `"job_title":"Foreman"`},
			},
			wantStderr: []string{"3 updates of company 8089", "2 updated, 1 failed"},
			wantTitles: map[int64]string{1002: "Estimator II", 1003: "Foreman"}, wantOps: 1,
		},
		{
			name: "validate-only: the preview, nothing applied", file: "preview.csv",
			body:       "id,job_title\n1004,Preview\n",
			args:       []string{"--validate-only"},
			wantCode:   0,
			wantStdout: []string{`"path": "/rest/v1.3/companies/8089/users/sync"`, `"id": 1004`, `"job_title": "Preview"`},
			wantStderr: []string{"all 1 updates are valid; nothing was sent"},
			wantTitles: map[int64]string{1004: ""},
			wantOps:    1, // the answer: an operation already done, which applied nothing
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := map[int64]string{}
			for id := range tt.wantTitles {
				before[id] = title(id)
			}
			opsBefore := operations()
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, tt.file), []byte(tt.body), 0o600); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"batch", "--plaintext", "--addr", addr, "--company-id", "8089"}, tt.args...)
			code, stdout, stderr := ctl(t, dir, append(args, tt.file)...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.wantCode, stderr)
			}
			if tt.wantResults != nil {
				b, err := os.ReadFile(filepath.Join(dir, "results.jsonl"))
				if err != nil {
					t.Fatal(err)
				}
				got := lines(string(b))
				if len(got) != len(tt.wantResults) {
					t.Errorf("%d result lines, want %d:\n%s", len(got), len(tt.wantResults), b)
				}
				for i := range min(len(got), len(tt.wantResults)) {
					for _, want := range tt.wantResults[i] {
						if !strings.Contains(got[i], want) {
							t.Errorf("result line %d lacks %s:\n%s", i+1, want, got[i])
						}
					}
				}
			}
			wantAll(t, "stdout", stdout, tt.wantStdout)
			wantAll(t, "stderr", stderr, tt.wantStderr)
			for id, want := range tt.wantTitles {
				if want == "" {
					want = before[id]
				}
				if got := title(id); got != want {
					t.Errorf("user %d reads back with job title %q, want %q", id, got, want)
				}
			}
			if n := operations() - opsBefore; n != tt.wantOps {
				t.Errorf("%d operations started, want %d", n, tt.wantOps)
			}
		})
	}
}
