package main

import (
	"github.com/procore-directory/procore-directory/upstream/procoretest/logsink"

	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

// buildBinary compiles the command once per test binary run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "procore-emulator")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startBinary runs the binary and returns its base URL from the listening line.
func startBinary(t *testing.T, bin string, args ...string) (*exec.Cmd, string, *logsink.Buffer) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &logsink.Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case line, ok := <-lines:
		base, found := strings.CutPrefix(line, "procore-emulator listening on ")
		if !ok || !found || strings.HasSuffix(base, ":0") {
			t.Fatalf("listening line %q; stderr: %s", line, stderr)
		}
		return cmd, base, stderr
	case <-time.After(30 * time.Second):
		t.Fatalf("no listening line; stderr: %s", stderr)
	}
	return nil, "", nil
}

func fetchToken(t *testing.T, base, id, secret string) string {
	t.Helper()
	return procoretest.Token(t, base+"/oauth/token", procoretest.OAuthClient{ClientID: id, ClientSecret: secret})
}

func apiCall(t *testing.T, method, u, tok, company, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Procore-Company-Id", company)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestBinary starts the real binary with the built-in seed, calls it,
// checks flags took effect, then stops it with SIGTERM.
func TestBinary(t *testing.T) {
	bin := buildBinary(t)
	cmd, base, stderr := startBinary(t, bin, "--addr", "127.0.0.1:0", "--spike-limit", "3", "--hourly-limit", "0")
	tok := fetchToken(t, base, "field-app", "field-secret-91c7")
	code, body := apiCall(t, "PATCH", base+"/rest/v1.3/companies/8089/users/1001", tok, "8089",
		`{"user":{"last_name":"Okafor","email_address":"maria.okafor@summitridge.example","city":"Salem"}}`)
	if code != 200 || !strings.Contains(string(body), `"city":"Salem"`) {
		t.Fatalf("PATCH: %d %s", code, body)
	}
	if code, body := apiCall(t, "GET", base+"/rest/v1.3/companies/8089/users/1001", tok, "8089", ""); code != 200 ||
		!strings.Contains(string(body), `"contact_id":7700101`) || strings.Contains(string(body), `"vendor_id"`) {
		t.Fatalf("show (default --response-shape=published): %d %s", code, body)
	}
	if code, _ := apiCall(t, "GET", base+"/rest/v1.3/companies/8089/users", tok, "8089", ""); code != 200 {
		t.Fatalf("index: %d", code)
	}
	if code, _ := apiCall(t, "GET", base+"/rest/v1.3/companies/8089/users", tok, "8089", ""); code != 429 {
		t.Fatalf("--spike-limit 3 not applied: %d", code)
	}
	resp, err := http.Get(base + "/_emulator/requests")
	if err != nil {
		t.Fatal(err)
	}
	var log []map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&log)
	resp.Body.Close()
	if len(log) != 5 { // token + 4 API calls
		t.Fatalf("request log has %d entries", len(log))
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v; stderr: %s", err, stderr)
	}
	if !strings.Contains(stderr.String(), "shutting down") || !strings.Contains(stderr.String(), "path=/rest/v1.3/companies/8089/users/1001") {
		t.Errorf("stderr lacks slog lines: %s", stderr)
	}
}

// TestBinaryContractModes starts the binary with every contract switch
// away from its default and checks each one took effect.
func TestBinaryContractModes(t *testing.T) {
	bin := buildBinary(t)
	_, base, _ := startBinary(t, bin, "--addr", "127.0.0.1:0",
		"--admin-fields=included", "--response-shape=extended", "--error-body=flat", "--null-clears=false")
	field := fetchToken(t, base, "field-app", "field-secret-91c7")
	admin := fetchToken(t, base, "directory-admin-app", "admin-secret-4f2a")
	user := base + "/rest/v1.3/companies/8089/users/1001"
	tests := []struct {
		name     string
		method   string
		tok      string
		body     string
		wantCode int
		want     []string // substrings of the answer
		wantNot  []string
	}{
		{name: "included + flat: unchanged e-mail refused", method: "PATCH", tok: field,
			body:     `{"user":{"last_name":"Okafor","email_address":"maria.okafor@summitridge.example"}}`,
			wantCode: 403, want: []string{`"code":403`, `"fields":"email_address"`, `"reason":"admin_only_field"`}},
		{name: "null refused", method: "PATCH", tok: admin,
			body:     `{"user":{"last_name":"Okafor","email_address":"maria.okafor@summitridge.example","notes":null}}`,
			wantCode: 422, want: []string{`{"errors":{"notes":["can't be null"]}}`}},
		{name: "extended show", method: "GET", tok: admin, wantCode: 200,
			want: []string{`"vendor_id":null`, `"permission_template":{"id":41`, `"welcome_email_sent_at":"2024-03-02T09:00:00Z"`}, wantNot: []string{`"contact_id"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := apiCall(t, tc.method, user, tc.tok, "8089", tc.body)
			if code != tc.wantCode {
				t.Fatalf("%d %s", code, body)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(body), w) {
					t.Errorf("answer lacks %s: %s", w, body)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(string(body), w) {
					t.Errorf("answer has %s: %s", w, body)
				}
			}
		})
	}
}

// TestBinarySync starts the binary with each --sync mode and the sync
// switches for the open questions, and checks each took effect over HTTP.
func TestBinarySync(t *testing.T) {
	bin := buildBinary(t)
	const (
		applied = `{"updates":[{"id":1002,"city":"Bend"},{"id":1001,"city":"Salem"}]}`
		failing = `{"updates":[{"id":9999},{"id":9998}]}`
	)
	tests := []struct {
		name     string
		args     []string
		client   [2]string // id, secret
		body     string
		wantCode int
		want     string // substring of the answer
	}{
		{name: "default: admin syncs, input order", client: [2]string{"directory-admin-app", "admin-secret-4f2a"}, body: applied,
			wantCode: 200, want: `{"entities":[{"id":1002,`},
		{name: "default: non-admin refused", client: [2]string{"field-app", "field-secret-91c7"}, body: applied,
			wantCode: 403, want: `{"errors":"You do not have permission to sync company users"}`},
		{name: "forbidden: admin refused", args: []string{"--sync=forbidden"}, client: [2]string{"directory-admin-app", "admin-secret-4f2a"}, body: applied,
			wantCode: 403, want: "You do not have permission"},
		{name: "absent: 404", args: []string{"--sync=absent"}, client: [2]string{"directory-admin-app", "admin-secret-4f2a"}, body: applied,
			wantCode: 404, want: `{"errors":"Not Found"}`},
		{name: "reversed order", args: []string{"--sync-order=reversed"}, client: [2]string{"directory-admin-app", "admin-secret-4f2a"}, body: applied,
			wantCode: 200, want: `{"entities":[{"id":1001,`},
		{name: "all failed: 422", args: []string{"--sync-all-failed-status=422"}, client: [2]string{"directory-admin-app", "admin-secret-4f2a"}, body: failing,
			wantCode: 422, want: `"errors":{"id":["Entity with this ID not found"]}`},
		{name: "max items", args: []string{"--sync-max-items=1"}, client: [2]string{"directory-admin-app", "admin-secret-4f2a"}, body: applied,
			wantCode: 400, want: `cannot hold more than 1 items`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, base, stderr := startBinary(t, bin, append([]string{"--addr", "127.0.0.1:0"}, tc.args...)...)
			tok := fetchToken(t, base, tc.client[0], tc.client[1])
			code, body := apiCall(t, "PATCH", base+"/rest/v1.3/companies/8089/users/sync", tok, "8089", tc.body)
			if code != tc.wantCode || !strings.Contains(string(body), tc.want) {
				t.Fatalf("%d %s; stderr: %s", code, body, stderr)
			}
		})
	}
}

// TestBinarySharedFixture loads the shared fixture beside the checkout
// through --seed, proving the emulator reads that file unchanged.
func TestBinarySharedFixture(t *testing.T) {
	root := moduleRoot(t)
	fixture := filepath.Join(root, "..", "shared", "fixtures", "directory.json")
	if _, err := os.Stat(filepath.Join(root, "..", "shared")); err != nil {
		t.Skipf("no shared folder beside the checkout: %v", err)
	}
	bin := buildBinary(t)
	cmd, base, stderr := startBinary(t, bin, "--addr", "127.0.0.1:0", "--seed", fixture)
	tok := fetchToken(t, base, "directory-admin-app", "admin-secret-4f2a")
	code, body := apiCall(t, "GET", base+"/rest/v1.3/companies/5120/users/2001", tok, "5120", "")
	if code != 200 || !strings.Contains(string(body), `"id":2001`) {
		t.Fatalf("show from the shared seed: %d %s", code, body)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGINT: %v; stderr: %s", err, stderr)
	}
}

func TestBinaryBadFlags(t *testing.T) {
	bin := buildBinary(t)
	tests := []struct {
		args []string
		code int
	}{
		{[]string{"--error-rate", "2"}, 2},
		{[]string{"--seed", filepath.Join(t.TempDir(), "missing.json"), "--addr", "127.0.0.1:0"}, 1},
		{[]string{"--addr", "256.0.0.1:99999"}, 1},
	}
	for _, tc := range tests {
		err := exec.Command(bin, tc.args...).Run()
		ee, ok := errors.AsType[*exec.ExitError](err)
		if !ok || ee.ExitCode() != tc.code {
			t.Errorf("%v: %v, want exit %d", tc.args, err, tc.code)
		}
	}
}

// TestRunInProcess covers run's shutdown path and help without a process.
func TestRunInProcess(t *testing.T) {
	if code := run(context.Background(), []string{"-h"}, io.Discard, io.Discard); code != 0 {
		t.Fatalf("-h: exit %d", code)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"--addr", "127.0.0.1:0"}, pw, io.Discard) }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "procore-emulator listening on http://127.0.0.1:") {
		t.Fatalf("line %q: %v", line, err)
	}
	base := strings.TrimSpace(strings.TrimPrefix(line, "procore-emulator listening on "))
	resp, err := http.Get(base + "/_emulator/requests")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// moduleRoot finds the directory holding go.mod above the test's directory.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}
