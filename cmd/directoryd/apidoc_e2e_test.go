package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/durationpb"
)

// apiDocMarker precedes docs/api.md's shell block of batch examples, which
// TestDevQuickstart runs as written.
const apiDocMarker = "<!-- run as written by cmd/directoryd's TestDevQuickstart against directoryd --dev;"

// operationIDRE matches the documentation's stand-in for an operation id:
// its first eight hex digits and an ellipsis.
var operationIDRE = regexp.MustCompile(`[0-9a-f]{8}-…`)

// apiDocCommands returns the commands of docs/api.md's marked shell block:
// each begins on a line starting with grpcurl or curl and runs to the next
// one (a grpcurl -d '...' spans lines); the documented answers ("# " lines)
// and blank lines are not commands.
func apiDocCommands(t *testing.T) []string {
	t.Helper()
	doc, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(doc), apiDocMarker)
	if !ok {
		t.Fatalf("docs/api.md has no %q", apiDocMarker)
	}
	_, after, ok = strings.Cut(after, "\n```sh\n")
	block, _, closed := strings.Cut(after, "\n```")
	if !ok || !closed {
		t.Fatal("docs/api.md: no closed sh block after the marker")
	}
	var commands []string
	for _, line := range strings.Split(block, "\n") {
		switch {
		case strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "":
		case strings.HasPrefix(line, "grpcurl ") || strings.HasPrefix(line, "curl "):
			commands = append(commands, line)
		case len(commands) == 0:
			t.Fatalf("docs/api.md: %q belongs to no command", line)
		default:
			commands[len(commands)-1] += "\n" + line
		}
	}
	return commands
}

// runAPIDocExamples runs docs/api.md's batch examples against the dev
// process at grpcAddr and httpAddr (for the documented 127.0.0.1:9090 and
// :8080), each operation id stand-in replaced by the id of the operation
// the last submission answered. After each submission it waits (gRPC
// WaitOperation) for the operation to be done, as a reader does before
// the commands the documentation says need it ("once done"). It returns
// how many commands ran.
func runAPIDocExamples(t *testing.T, grpcurl, grpcAddr, httpAddr string) int {
	t.Helper()
	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ops := longrunningpb.NewOperationsClient(conn)
	commands := apiDocCommands(t)
	if len(commands) < 8 {
		t.Fatalf("docs/api.md's batch examples: %d commands, want grpcurl submit, wait, get and curl submit, get, list, cancel, delete", len(commands))
	}
	ran, id := 0, ""
	for _, doc := range commands {
		c := strings.NewReplacer("127.0.0.1:9090", grpcAddr, "127.0.0.1:8080", httpAddr).Replace(doc)
		if rest, ok := strings.CutPrefix(c, "grpcurl "); ok {
			if grpcurl == "" {
				t.Logf("grpcurl not installed (scripts/tools.sh grpcurl): not running %q", doc)
				id = "" // its submission did not run either
				continue
			}
			c = grpcurl + " " + rest
		}
		if operationIDRE.MatchString(c) {
			if id == "" {
				t.Fatalf("%q names an operation before any was submitted", doc)
			}
			c = operationIDRE.ReplaceAllLiteralString(c, id)
		}
		if rest, ok := strings.CutPrefix(c, "curl "); ok {
			c = "curl --fail-with-body " + rest // before any trailing # comment
		}
		out, err := exec.Command("sh", "-c", c).CombinedOutput()
		if err != nil {
			t.Errorf("%s: %v\n%s", doc, err, out)
			continue
		}
		ran++
		var wants []string
		switch {
		case strings.Contains(c, "BatchUpdateCompanyUsers") || strings.Contains(c, ":batchUpdate"):
			var op struct{ Name string }
			if err := json.Unmarshal(out, &op); err != nil || !strings.HasPrefix(op.Name, "operations/") {
				t.Fatalf("%s answered no operation (%v):\n%s", doc, err, out)
			}
			id = strings.TrimPrefix(op.Name, "operations/")
			waitDone(t, ops, op.Name)
		case strings.Contains(c, ":cancel"), strings.Contains(c, "-X DELETE"):
			wants = []string{`{}`}
		case strings.Contains(c, "Operations/WaitOperation"), strings.Contains(c, "Operations/GetOperation"):
			wants = []string{`"name": "operations/` + id, `"done": true`, `"succeeded": 2`, `"companyUsers"`}
		case strings.Contains(c, "/v1/operations/"+id+" "):
			wants = []string{`"done":true`, `"failed_requests":{"1":{"code":5`, `"UPSTREAM_NOT_FOUND"`, `"job_title":"Foreman"`}
		case strings.Contains(c, "/v1/operations?"):
			wants = []string{`"name":"operations/` + id}
		}
		for _, want := range wants {
			if !strings.Contains(string(out), want) {
				t.Errorf("%s printed no %s:\n%s", doc, want, out)
			}
		}
	}
	return ran
}

// waitDone waits until operation name is done.
func waitDone(t *testing.T, ops longrunningpb.OperationsClient, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	op, err := ops.WaitOperation(ctx, &longrunningpb.WaitOperationRequest{Name: name, Timeout: durationpb.New(25 * time.Second)})
	if err != nil || !op.GetDone() {
		t.Fatalf("WaitOperation %s: done %v, %v", name, op.GetDone(), err)
	}
}
