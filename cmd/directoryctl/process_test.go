package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// ctlBinary is directoryctl, and directorydBinary the service, built once
// by TestMain for the tests that run them as processes.
var ctlBinary, directorydBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "directoryctl-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctlBinary = filepath.Join(dir, "directoryctl")
	directorydBinary = filepath.Join(dir, "directoryd")
	for bin, pkg := range map[string]string{ctlBinary: ".", directorydBinary: "../directoryd"} {
		if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go build %s: %v\n%s", pkg, err, out)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// ctl runs directoryctl in dir (where the test's files are), its standard
// error a pipe, not a terminal.
func ctl(t *testing.T, dir string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return ctlEnv(t, dir, nil, args...)
}

// ctlEnv is ctl with environment variables (KEY=value) besides PATH.
func ctlEnv(t *testing.T, dir string, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(ctlBinary, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return code, out.String(), errOut.String()
}

// wantAll reports each of wants that the output named what lacks.
func wantAll(t *testing.T, what, got string, wants []string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(got, want) {
			t.Errorf("%s lacks %q:\n%s", what, want, got)
		}
	}
}

// lines are s's lines, without the final newline.
func lines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

const (
	// invalidMessage is apierr.InvalidArgument's message for one violation.
	invalidMessage = `"message":"invalid user.job_title: is not allowed","field_violations":[{"field":"user.job_title","description":"is not allowed"}]`
	notFoundLine   = `"status":"NOT_FOUND","reason":"USER_NOT_FOUND","message":"no such company user"`
)

// TestBatchProcess runs directoryctl against a real gRPC server on a
// loopback port (the Operations service over the operations package's
// store, and a stand-in batch whose items fail by their job title): the
// results line by line, the exit codes, validate-only, both formats, and
// malformed input refused with its line and nothing sent.
func TestBatchProcess(t *testing.T) {
	const jsonl = `{"id": 1001, "user": {"job_title": "Lead"}, "update_mask": {"paths": ["job_title"]}}

{"id": 1002, "user": {"job_title": "404"}, "update_mask": "jobTitle"}
{"company_id": 8089, "id": 1003, "user": {"job_title": "invalid"}}
{"id": 1004, "user": {"job_title": "Site Lead"}}
`
	tests := []struct {
		name        string
		files       map[string]string
		args        []string // after `batch --plaintext --addr ADDR`
		wantCode    int
		wantResults []string // results.jsonl, or stdout without --results
		wantStdout  []string // substrings, with --results or --validate-only
		wantStderr  []string // substrings
		wantCalls   int32
		noResults   bool // results.jsonl must not exist
	}{
		{
			name: "jsonl: some failed, exit 1", files: map[string]string{"updates.jsonl": jsonl},
			args: []string{"--company-id", "8089", "--results", "results.jsonl", "updates.jsonl"}, wantCode: 1,
			wantResults: []string{
				`{"index":0,"line":1,"id":1001,"status":"OK","user":{"job_title":"Lead","id":"1001","name":"User 1001"}}`,
				`{"index":1,"line":3,"id":1002,` + notFoundLine + `}`,
				`{"index":2,"line":4,"id":1003,"status":"INVALID_ARGUMENT","reason":"INVALID_REQUEST",` + invalidMessage + `}`,
				`{"index":3,"line":5,"id":1004,"status":"OK","user":{"job_title":"Site Lead","id":"1004","name":"User 1004"}}`,
			},
			wantStderr: []string{"4 updates of company 8089", "operations/", "2 updated, 2 failed"}, wantCalls: 1,
		},
		{
			name:  "csv: every row applied, exit 0, results on stdout, company_id from its column",
			files: map[string]string{"updates.csv": "id,company_id,job_title\n1001,8089,Lead\n1002,8089,\"Lead, East\"\n"},
			args:  []string{"updates.csv"}, wantCode: 0,
			wantResults: []string{
				`{"index":0,"line":2,"id":1001,"status":"OK","user":{"job_title":"Lead","id":"1001","name":"User 1001"}}`,
				`{"index":1,"line":3,"id":1002,"status":"OK","user":{"job_title":"Lead, East","id":"1002","name":"User 1002"}}`,
			},
			wantStderr: []string{"2 updated, 0 failed"}, wantCalls: 1,
		},
		{
			name:  "none applied: ABORTED, exit 3, every item's failure still written",
			files: map[string]string{"u.txt": "id,job_title\n7,404\n8,404\n"},
			args:  []string{"--format", "csv", "--company-id", "8089", "--results", "results.jsonl", "u.txt"}, wantCode: 3,
			wantResults: []string{
				`{"index":0,"line":2,"id":7,` + notFoundLine + `}`,
				`{"index":1,"line":3,"id":8,` + notFoundLine + `}`,
			},
			wantStderr: []string{"0 updated, 2 failed", "the operation ended ABORTED: None of the requests succeeded"}, wantCalls: 1,
		},
		{
			name: "validate-only: the preview on stdout, no operation, no results", files: map[string]string{"updates.jsonl": jsonl},
			args: []string{"--company-id", "8089", "--validate-only", "--results", "results.jsonl", "updates.jsonl"}, wantCode: 0,
			wantStdout: []string{`"path": "/rest/v1.3/companies/8089/users/sync"`, `"id": 1004`},
			wantStderr: []string{"all 4 updates are valid; nothing was sent"}, wantCalls: 1, noResults: true,
		},
		{
			name: "the server refuses an item: its file line, exit 2", files: map[string]string{"updates.jsonl": "{\"id\": 1}\n{\"id\": 2, \"user\": {\"email_address\": \"bad@\"}}\n"},
			args: []string{"--company-id", "8089", "updates.jsonl"}, wantCode: 2,
			wantStderr: []string{"the batch was refused, nothing was sent: INVALID_ARGUMENT", "updates.jsonl:2: user.email_address: must be an email address"}, wantCalls: 1,
		},
		{
			name: "malformed JSONL: its line, nothing sent, exit 2", files: map[string]string{"updates.jsonl": "{\"id\": 1}\n\n{\"id\": 2, \"user\": {\"jobTitle\": \"x\", \"title\": \"y\"}}\n"},
			args: []string{"--company-id", "8089", "--results", "results.jsonl", "updates.jsonl"}, wantCode: 2,
			wantStderr: []string{`updates.jsonl:3: `, `unknown field "title"`}, noResults: true,
		},
		{
			name: "malformed CSV: its line, nothing sent, exit 2", files: map[string]string{"updates.csv": "id,is_active\n1,true\n2,TRUE\n"},
			args: []string{"--company-id", "8089", "updates.csv"}, wantCode: 2,
			wantStderr: []string{`updates.csv:3: is_active: "TRUE" is not true or false`},
		},
		{
			name: "no company: exit 2", files: map[string]string{"updates.jsonl": "{\"id\": 1, \"user\": {\"city\": \"x\"}}\n"},
			args: []string{"updates.jsonl"}, wantCode: 2,
			wantStderr: []string{"updates.jsonl:1: no company_id: give --company-id"},
		},
		{
			name: "no file: usage, exit 2", args: []string{"--company-id", "8089"}, wantCode: 2,
			wantStderr: []string{"usage: directoryctl batch", "want exactly one FILE"},
		},
		{
			name: "a request_id that is no UUID: exit 2", files: map[string]string{"updates.jsonl": jsonl},
			args: []string{"--company-id", "8089", "--request-id", "batch-1", "updates.jsonl"}, wantCode: 2,
			wantStderr: []string{`--request-id "batch-1": want a UUID`},
		},
		{
			name: "an unknown extension: exit 2", files: map[string]string{"updates.txt": jsonl},
			args: []string{"--company-id", "8089", "updates.txt"}, wantCode: 2,
			wantStderr: []string{"cannot tell the format", "give --format"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, addr := serveBatch(t)
			dir := t.TempDir()
			for name, body := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			code, stdout, stderr := ctl(t, dir, append([]string{"batch", "--plaintext", "--addr", addr}, tt.args...)...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.wantCode, stderr)
			}
			got := stdout
			if b, err := os.ReadFile(filepath.Join(dir, "results.jsonl")); err == nil {
				got = string(b)
				if tt.noResults {
					t.Errorf("results.jsonl written:\n%s", b)
				}
			}
			if tt.wantResults != nil {
				gotLines := lines(got)
				if len(gotLines) != len(tt.wantResults) {
					t.Errorf("%d result lines, want %d:\n%s", len(gotLines), len(tt.wantResults), got)
				}
				for i := range min(len(gotLines), len(tt.wantResults)) {
					if gotLines[i] != tt.wantResults[i] {
						t.Errorf("result line %d:\n got %s\nwant %s", i+1, gotLines[i], tt.wantResults[i])
					}
				}
			}
			wantAll(t, "stdout", stdout, tt.wantStdout)
			wantAll(t, "stderr", stderr, tt.wantStderr)
			if strings.Contains(stderr, "\r") {
				t.Errorf("a progress bar was drawn on a pipe:\n%q", stderr)
			}
			if n := srv.calls.Load(); n != tt.wantCalls {
				t.Errorf("the server got %d batch calls, want %d", n, tt.wantCalls)
			}
			if ops, _, _ := srv.store.List(context.Background(), "test", 10, ""); tt.wantCode == 2 || tt.noResults {
				if len(ops) != 0 {
					t.Errorf("%d operations started, want none", len(ops))
				}
			}
		})
	}
}

// TestBatchProcessSameRequestID: run again with the printed request_id, the
// command follows the same operation (AIP-155) instead of starting the
// batch a second time, and reports the same outcomes.
func TestBatchProcessSameRequestID(t *testing.T) {
	srv, addr := serveBatch(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "u.csv"), []byte("id,job_title\n1,Lead\n2,404\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"batch", "--plaintext", "--addr", addr, "--company-id", "8089", "u.csv"}
	code1, out1, err1 := ctl(t, dir, args...)
	id := regexp.MustCompile(`request_id ([0-9a-f-]{36})`).FindStringSubmatch(err1)
	name := regexp.MustCompile(`operations/[0-9a-f-]{36}`).FindString(err1)
	if code1 != 1 || id == nil || name == "" {
		t.Fatalf("first run: exit %d, stderr:\n%s", code1, err1)
	}
	code2, out2, err2 := ctl(t, dir, append(args, "--request-id", id[1])...)
	if code2 != 1 || out2 != out1 || !strings.Contains(err2, name) {
		t.Errorf("second run: exit %d, stdout:\n%s\nwant:\n%s\nstderr:\n%s", code2, out2, out1, err2)
	}
	if ops, _, _ := srv.store.List(context.Background(), "test", 10, ""); len(ops) != 1 {
		t.Errorf("%d operations, want 1", len(ops))
	}
}

// TestBatchProcessUnreachable: a server that cannot be reached is exit 3,
// and since an UNAVAILABLE submission may have started the batch, the
// command says how to find out: the same request_id again.
func TestBatchProcessUnreachable(t *testing.T) {
	dir := t.TempDir()
	// A socket path nothing listens on: unreachable for certain, where a
	// loopback port closed again could be taken by another test meanwhile.
	addr := "unix://" + filepath.Join(dir, "nobody.sock")
	if err := os.WriteFile(filepath.Join(dir, "u.csv"), []byte("id,job_title\n1,Lead\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := ctl(t, dir, "batch", "--plaintext", "--addr", addr, "--company-id", "8089", "u.csv")
	if code != 3 || !strings.Contains(stderr, "submitting failed (UNAVAILABLE") || !strings.Contains(stderr, "may have started: run again with --request-id") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}

// TestBatchProcessInterrupted: SIGINT while the operation runs ends the
// wait, not the operation: exit 130, and how to follow it again.
func TestBatchProcessInterrupted(t *testing.T) {
	_, addr := serveBatch(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "u.csv"), []byte("id,job_title\n1,hang\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(ctlBinary, "batch", "--plaintext", "--addr", addr, "--company-id", "8089", "u.csv")
	cmd.Dir = dir
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var seen strings.Builder
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		seen.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), "operations/") { // submitted: now waiting
			break
		}
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(stderr)
	seen.Write(rest)
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 130 || !strings.Contains(seen.String(), "interrupted; operations/") {
		t.Errorf("wait: %v; stderr:\n%s", err, seen.String())
	}
}
