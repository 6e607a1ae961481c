package deploy

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service/state/redisstate/redistest"
	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

var listeningRE = regexp.MustCompile(`^directoryd listening: grpc=(\S+) http=(\S+)$`)

// startDirectoryd builds directoryd from this checkout (the module one
// directory up) and runs it on loopback with args; it returns the gRPC and
// HTTP addresses. The process is killed when the test ends.
func startDirectoryd(t *testing.T, args ...string) (grpcAddr, httpAddr string) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "directoryd")
	build := exec.Command("go", "build", "-o", bin, "./cmd/directoryd")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build directoryd: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, append([]string{"--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"}, args...)...)
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
	found := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listeningRE.FindStringSubmatch(sc.Text()); m != nil {
				found <- m
			}
		}
		close(found)
	}()
	select {
	case m, ok := <-found:
		if !ok {
			t.Fatalf("directoryd exited before listening")
		}
		return m[1], m[2]
	case <-time.After(60 * time.Second):
		t.Fatal("directoryd did not say it listens")
	}
	return "", ""
}

// scrapeAfterCalls runs directoryd against the emulator (faults scripted
// to cause a retry and open the circuit breaker) and a Redis of its own,
// makes gRPC and REST calls that succeed and fail, validate_only and
// batch operations included, and returns the label names of every series
// /metrics serves.
func scrapeAfterCalls(t *testing.T) labelsOf {
	t.Helper()
	emu := procoretest.NewServer(t)
	admin, ok := emu.AdminClient()
	if !ok {
		t.Fatal("the emulator's seed has no admin client")
	}
	tok := procoretest.Token(t, emu.TokenURL, admin)
	redis := redistest.Start(t)
	grpcAddr, httpAddr := startDirectoryd(t, "--upstream-url", emu.URL, "--redis-url", redis.URL(),
		"--required-fields", "fill", "--breaker-failures", "2", "--breaker-open-timeout", "1h")

	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := directoryv1.NewDirectoryServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	authed := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)

	update := func(validateOnly bool, paths ...string) error {
		_, err := client.UpdateCompanyUser(authed, &directoryv1.UpdateCompanyUserRequest{
			CompanyId: 8089, Id: 1001, ValidateOnly: validateOnly,
			User:       &directoryv1.CompanyUser{JobTitle: ptr("Site Lead")},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: paths},
		})
		return err
	}
	grpcCalls := []struct {
		name string
		call func() error
		want codes.Code
	}{
		{"get", func() error {
			_, err := client.GetCompanyUser(authed, &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: 1001})
			return err
		}, codes.OK},
		{"get without a token", func() error {
			_, err := client.GetCompanyUser(ctx, &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: 1001})
			return err
		}, codes.Unauthenticated},
		{"update", func() error { return update(false, "job_title") }, codes.OK},
		{"update validate_only", func() error { return update(true, "job_title") }, codes.OK},
		{"update with a bad mask", func() error { return update(false, "no_such_field") }, codes.InvalidArgument},
		{"get retried after a 503", func() error {
			emu.Script(procoretest.FaultUnavailableThenRetry())
			_, err := client.GetCompanyUser(authed, &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: 1001})
			return err
		}, codes.OK},
	}
	for _, c := range grpcCalls {
		if err := c.call(); status.Code(err) != c.want {
			t.Fatalf("gRPC %s: %v, want %v", c.name, err, c.want)
		}
	}

	restCalls := []struct {
		method, path, body string
		want               int
	}{
		{http.MethodGet, "/v1/companies/8089/users/1001", "", http.StatusOK},
		{http.MethodPatch, "/v1/companies/8089/users/1001", `{"job_title":"Lead"}`, http.StatusOK},
		{http.MethodPatch, "/v1/companies/8089/users/1001?validate_only=true", `{"job_title":"Lead"}`, http.StatusOK},
		{http.MethodPatch, "/rest/v1.3/companies/8089/users/1001", `{"user":{"city":"Salem"}}`, http.StatusOK},
		{http.MethodPatch, "/v1/companies/8089/users/1001", `{"job_title":`, http.StatusBadRequest},
		{http.MethodPost, "/v1/companies/8089/users:batchUpdate", `{"requests":[{"id":1003,"user":{"job_title":"Foreman"},"update_mask":"jobTitle"}]}`, http.StatusOK},
	}
	for _, c := range restCalls {
		req, _ := http.NewRequestWithContext(ctx, c.method, "http://"+httpAddr+c.path, strings.NewReader(c.body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Fatalf("REST %s %s: %d %s, want %d", c.method, c.path, resp.StatusCode, body, c.want)
		}
	}

	// A batch operation (gRPC; its REST route is the same call), run to
	// its end, then one refused at submission.
	batch := &directoryv1.BatchUpdateCompanyUsersRequest{CompanyId: 8089}
	for _, id := range []int64{1001, 1002} {
		batch.Requests = append(batch.Requests, &directoryv1.UpdateCompanyUserRequest{
			Id: id, User: &directoryv1.CompanyUser{JobTitle: ptr("Foreman")}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"job_title"}},
		})
	}
	op, err := client.BatchUpdateCompanyUsers(authed, batch)
	if err != nil {
		t.Fatalf("batch: %v", err)
	}
	done, err := longrunningpb.NewOperationsClient(conn).WaitOperation(authed,
		&longrunningpb.WaitOperationRequest{Name: op.GetName(), Timeout: durationpb.New(20 * time.Second)})
	if err != nil || !done.GetDone() || done.GetError() != nil {
		t.Fatalf("batch operation: %v, done %v, error %v", err, done.GetDone(), done.GetError())
	}
	batch.Requests[0].UpdateMask.Paths = []string{"no_such_field"}
	if _, err := client.BatchUpdateCompanyUsers(authed, batch); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("batch with a bad mask: %v, want InvalidArgument", err)
	}

	// Last: Procore fails until the breaker opens (two failures in a row).
	emu.Script(procoretest.FaultStatus(http.StatusInternalServerError, "text/plain", "boom", nil),
		procoretest.FaultStatus(http.StatusInternalServerError, "text/plain", "boom", nil),
		procoretest.FaultStatus(http.StatusInternalServerError, "text/plain", "boom", nil),
		procoretest.FaultStatus(http.StatusInternalServerError, "text/plain", "boom", nil))
	for range 3 {
		_, err := client.GetCompanyUser(authed, &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: 1001})
		if status.Code(err) == codes.OK {
			t.Fatal("get succeeded while Procore fails")
		}
	}
	return scrape(t, "http://"+httpAddr+"/metrics")
}

func ptr[T any](v T) *T { return &v }

var seriesRE = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s`)
var labelRE = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"`)

// scrape reads the text exposition format: every series (histograms as
// their _bucket, _sum and _count series) and its label names.
func scrape(t *testing.T, url string) labelsOf {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	out := labelsOf{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := seriesRE.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("unreadable exposition line %q", line)
		}
		if out[m[1]] == nil {
			out[m[1]] = map[string]bool{}
		}
		for _, l := range labelRE.FindAllStringSubmatch(m[2], -1) {
			out[m[1]][l[1]] = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
