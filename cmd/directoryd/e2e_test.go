package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

// binaries are built once for all end-to-end tests, which may run in
// parallel.
var binaries struct {
	once sync.Once
	dir  string
	err  error
}

func buildBinaries(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: builds and runs real processes")
	}
	binaries.once.Do(func() {
		binaries.dir, binaries.err = os.MkdirTemp("", "directoryd-e2e")
		if binaries.err == nil {
			for _, pkg := range []string{"directoryd", "procore-emulator"} {
				out, err := exec.Command("go", "build", "-o", filepath.Join(binaries.dir, pkg), "../"+pkg).CombinedOutput()
				if err != nil {
					binaries.err = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
					break
				}
			}
		}
	})
	if binaries.err != nil {
		t.Fatal(binaries.err)
	}
	return binaries.dir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binaries.dir != "" {
		os.RemoveAll(binaries.dir)
	}
	os.Exit(code)
}

// process is a binary running on loopback, its stdout read line by line.
type process struct {
	cmd    *exec.Cmd
	lines  chan string
	stderr *strings.Builder
}

func start(t *testing.T, bin string, args ...string) *process {
	t.Helper()
	return startEnv(t, bin, nil, args...)
}

// startEnv is start with extra environment variables (KEY=value), such as
// the Procore client credentials, which directoryd reads only from there.
func startEnv(t *testing.T, bin string, env []string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(append(os.Environ(), "DIRECTORYD_LOG_LEVEL=debug"), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, lines: make(chan string, 100), stderr: &strings.Builder{}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s stderr:\n%s", filepath.Base(bin), p.stderr.String())
		}
	})
	return p
}

// waitLine returns the first stdout line matching re (its submatches).
func (p *process) waitLine(t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				t.Fatalf("process exited before printing %v; stderr:\n%s", re, p.stderr)
			}
			if m := re.FindStringSubmatch(line); m != nil {
				return m
			}
		case <-timeout:
			t.Fatalf("no line matching %v", re)
		}
	}
}

var (
	listeningRE = regexp.MustCompile(`^directoryd listening: grpc=(\S+) http=(\S+)$`)
	emulatorRE  = regexp.MustCompile(`^procore-emulator listening on (http://\S+)$`)
)

// requestLog fetches the request log of an emulator process
// (GET /_emulator/requests), oldest first, in the emulator's own type.
func requestLog(t *testing.T, emuURL string) []procoretest.Request {
	t.Helper()
	resp, err := http.Get(emuURL + "/_emulator/requests")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var log []procoretest.Request
	if err := json.NewDecoder(resp.Body).Decode(&log); err != nil {
		t.Fatal(err)
	}
	return log
}

func token(t *testing.T, emuURL, id, secret string) string {
	t.Helper()
	return procoretest.Token(t, emuURL+"/oauth/token", procoretest.OAuthClient{ClientID: id, ClientSecret: secret})
}

// TestEndToEnd starts the emulator and directoryd as real processes on
// loopback, in pass-through mode, and drives both RPCs over gRPC and the
// REST routes, asserting exactly what reached "Procore".
func TestEndToEnd(t *testing.T) {
	bin := buildBinaries(t)
	emu := start(t, filepath.Join(bin, "procore-emulator"), "--addr", "127.0.0.1:0", "--hourly-limit", "0", "--spike-limit", "0")
	emuURL := emu.waitLine(t, emulatorRE)[1]
	d := start(t, filepath.Join(bin, "directoryd"), "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--upstream-url", emuURL, "--required-fields", "masked-only")
	addrs := d.waitLine(t, listeningRE)
	grpcAddr, httpAddr := addrs[1], addrs[2]

	tok := token(t, emuURL, "directory-admin-app", "admin-secret-4f2a")
	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := directoryv1.NewDirectoryServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	if _, err := client.GetCompanyUser(ctx, &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: 1002}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("without a token: %v", err)
	}
	authed := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
	u, err := client.UpdateCompanyUser(authed, &directoryv1.UpdateCompanyUserRequest{
		CompanyId: 8089, Id: 1002,
		User: &directoryv1.CompanyUser{
			LastName: ptrTo("Tanaka"), EmailAddress: ptrTo("jun.tanaka@summitridge.example"),
			BusinessPhoneExtension: ptrTo(int64(12)), IsActive: ptrTo(false), City: ptrTo("not sent"),
		},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"last_name", "email_address", "business_phone_extension", "is_active", "notes"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if u.GetBusinessPhoneExtension() != 12 || u.GetIsActive() || u.GetCity() != "Vancouver" {
		t.Errorf("updated user %v", u)
	}
	got, err := client.GetCompanyUser(authed, &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: 1002})
	if err != nil || got.GetBusinessPhoneExtension() != 12 {
		t.Fatalf("get: %v %v", got, err)
	}

	for _, r := range []struct{ path, body string }{
		{"/v1/companies/8089/users/1002", `{"last_name":"Tanaka","email_address":"jun.tanaka@summitridge.example","job_title":"Lead"}`},
		{"/rest/v1.3/companies/8089/users/1002?run_configurable_validations=true", `{"user":{"last_name":"Tanaka","email_address":"jun.tanaka@summitridge.example","mobile_phone":"+1 604 555 0100"}}`},
	} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPatch, "http://"+httpAddr+r.path, strings.NewReader(r.body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("PATCH %s: %d %s", r.path, resp.StatusCode, body)
		}
	}

	var patches []string
	for _, r := range requestLog(t, emuURL) {
		if r.Method != http.MethodPatch {
			continue
		}
		if r.Path != "/rest/v1.3/companies/8089/users/1002" || r.CompanyID != "8089" {
			t.Errorf("PATCH %s with Procore-Company-Id %q", r.Path, r.CompanyID)
		}
		patches = append(patches, r.Query+" "+string(r.Body))
	}
	want := []string{
		` {"user":{"business_phone_extension":12,"email_address":"jun.tanaka@summitridge.example","is_active":false,"last_name":"Tanaka","notes":""}}`,
		` {"user":{"email_address":"jun.tanaka@summitridge.example","job_title":"Lead","last_name":"Tanaka"}}`,
		`run_configurable_validations=true {"user":{"email_address":"jun.tanaka@summitridge.example","last_name":"Tanaka","mobile_phone":"+1 604 555 0100"}}`,
	}
	if strings.Join(patches, "\n") != strings.Join(want, "\n") {
		t.Errorf("upstream PATCHes:\n%s\nwant:\n%s", strings.Join(patches, "\n"), strings.Join(want, "\n"))
	}

	// Graceful shutdown: SIGTERM ends the process cleanly.
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Wait(); err != nil {
		t.Errorf("directoryd exit after SIGTERM: %v", err)
	}
	// The last log line says the stop is over, and that it drained.
	lines := strings.Split(strings.TrimSpace(d.stderr.String()), "\n")
	var last struct {
		Msg        string   `json:"msg"`
		Drained    *bool    `json:"drained"`
		ShutdownMS *float64 `json:"shutdown_ms"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.Msg != "directoryd stopped" ||
		last.Drained == nil || !*last.Drained || last.ShutdownMS == nil {
		t.Errorf("last log line %q: want directoryd stopped, drained, with shutdown_ms", lines[len(lines)-1])
	}
	if strings.Contains(d.stderr.String(), tok) {
		t.Error("directoryd logged the caller's token")
	}
}

func ptrTo[T any](v T) *T { return &v }

// TestDevQuickstart runs `directoryd --dev` and then the grpcurl and curl
// commands it prints, verbatim: they are the README's quick start. Then
// docs/api.md's batch examples (runAPIDocExamples).
func TestDevQuickstart(t *testing.T) {
	bin := buildBinaries(t)
	d := start(t, filepath.Join(bin, "directoryd"), "--dev", "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0")
	addrs := d.waitLine(t, listeningRE)
	var commands []string
	for line := range d.lines {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "grpcurl ") || strings.HasPrefix(line, "curl ") {
			commands = append(commands, line)
		}
		if strings.HasPrefix(line, "curl -s http") && strings.HasSuffix(line, "/openapi.json") {
			break
		}
	}
	if len(commands) < 9 {
		t.Fatalf("dev mode printed %d commands: %q", len(commands), commands)
	}
	grpcurl, err := exec.LookPath("grpcurl")
	if err != nil {
		if _, statErr := os.Stat("../../.tools/bin/grpcurl"); statErr == nil {
			grpcurl, _ = filepath.Abs("../../.tools/bin/grpcurl")
		}
	}
	ran := 0
	for _, c := range commands {
		if strings.HasPrefix(c, "grpcurl ") {
			if grpcurl == "" {
				t.Logf("grpcurl not installed (WITH_GRPCURL=1 scripts/tools.sh): not running %q", c)
				continue
			}
			c = grpcurl + strings.TrimPrefix(c, "grpcurl")
		}
		cmdline := c
		if strings.HasPrefix(c, "curl ") {
			cmdline += " --fail-with-body"
		}
		out, err := exec.Command("sh", "-c", cmdline).CombinedOutput()
		if strings.Contains(c, `"XX"`) {
			// The error example: grpcurl fails, and decodes every detail
			// through reflection (no "is not recognized").
			if err == nil || !strings.Contains(string(out), "InvalidArgument") ||
				!strings.Contains(string(out), "google.rpc.BadRequest") || !strings.Contains(string(out), "google.rpc.ErrorInfo") ||
				!strings.Contains(string(out), "user.country_code") || strings.Contains(string(out), "not recognized") {
				t.Errorf("%s: %v\n%s", c, err, out)
			}
			ran++
			continue
		}
		if err != nil {
			t.Errorf("%s: %v\n%s", c, err, out)
			continue
		}
		ran++
		switch {
		case strings.HasSuffix(c, " describe"):
			// Every service resolves through reflection, health and
			// reflection themselves included.
			for _, want := range []string{"procore.directory.v1.DirectoryService is a service", "grpc.health.v1.Health is a service", "grpc.reflection.v1.ServerReflection is a service"} {
				if !strings.Contains(string(out), want) {
					t.Errorf("%s printed no %q:\n%s", c, want, out)
				}
			}
		case strings.Contains(c, "Health/Check"):
			if !strings.Contains(string(out), `"status": "SERVING"`) {
				t.Errorf("%s printed %s", c, out)
			}
		case strings.Contains(c, " describe "):
			// Reflection serves the proto's comments.
			if !strings.Contains(string(out), "// DirectoryService reads and updates the users") {
				t.Errorf("%s printed no doc comments:\n%s", c, out)
			}
		case strings.Contains(c, " list"):
			if !strings.Contains(string(out), "procore.directory.v1.DirectoryService") {
				t.Errorf("%s printed %s", c, out)
			}
		case strings.Contains(c, ":batchUpdate"):
			if !strings.Contains(string(out), `"name":"operations/`) {
				t.Errorf("%s printed %s", c, out)
			}
		case strings.Contains(c, "UpdateCompanyUser") || strings.Contains(c, "PATCH"):
			if !strings.Contains(string(out), `"email_address"`) && !strings.Contains(string(out), `"emailAddress"`) {
				t.Errorf("%s printed %s", c, out)
			}
		}
	}
	if ran == 0 {
		t.Fatal("no command ran")
	}
	// docs/api.md's batch examples, as written, against the same process.
	if runAPIDocExamples(t, grpcurl, addrs[1], addrs[2]) == 0 {
		t.Fatal("no docs/api.md batch example ran")
	}
}

// TestRefusesWithoutUpstream: without --dev and --upstream-url, directoryd
// exits with a clear message instead of talking to anything.
func TestRefusesWithoutUpstream(t *testing.T) {
	bin := buildBinaries(t)
	out, err := exec.Command(filepath.Join(bin, "directoryd")).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Fatalf("exit %v, want 2", err)
	}
	if !strings.Contains(string(out), "--upstream-url") || !strings.Contains(string(out), "--dev") {
		t.Errorf("message %q", out)
	}
}
