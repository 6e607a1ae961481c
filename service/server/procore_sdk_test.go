package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/procore-directory/procore-directory/service"
)

// procoreSDKDir is where scripts/tools.sh procore-sdk installs Procore's
// JavaScript SDK, from this package's directory.
const procoreSDKDir = "../../.tools/npm/node_modules/@procore/js-sdk"

// procoreSDK returns node and the SDK's directory. Without them the test
// is skipped, saying how to install them, except under CI=true, where it
// fails: CI installs both (.ci/run).
func procoreSDK(t *testing.T) (node, sdk string) {
	t.Helper()
	missing := func(what string) {
		msg := what + ": install it with `scripts/tools.sh procore-sdk` (Node and npm needed)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not on PATH")
	}
	sdk, err = filepath.Abs(procoreSDKDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(sdk, "package.json")); err != nil {
		missing("Procore's JavaScript SDK (@procore/js-sdk) is not installed at " + procoreSDKDir)
	}
	return node, sdk
}

// sdkResult is one refused call as testdata/procore_sdk_errors.mjs saw it
// through the SDK.
type sdkResult struct {
	Name         string   `json:"name"`
	Status       int      `json:"status"`
	Body         any      `json:"body"`
	EmailAddress []string `json:"email_address"`
	Unexpected   string   `json:"unexpected"`
}

// runProcoreSDK runs the script with the SDK against base.
func runProcoreSDK(t *testing.T, node, sdk, base, token string) map[string]sdkResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "testdata/procore_sdk_errors.mjs")
	cmd.Env = append(os.Environ(), "PROCORE_SDK="+sdk, "BASE="+base, "TOKEN="+token,
		"COMPANY=8089", "USER=1001", "TAKEN_EMAIL=jun.tanaka@summitridge.example", "UNKNOWN_USER=999")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node procore_sdk_errors.mjs against %s: %v\n%s", base, err, stderr.String())
	}
	var results []sdkResult
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatalf("script output %q: %v", out, err)
	}
	byName := map[string]sdkResult{}
	for _, r := range results {
		if r.Unexpected != "" {
			t.Errorf("%s against %s: %s (HTTP %d %v)", r.Name, base, r.Unexpected, r.Status, r.Body)
		}
		byName[r.Name] = r
	}
	return byName
}

// TestProcoreJSSDKReadsErrors: Procore's own JavaScript SDK, pointed at
// the service's Procore-compatible route instead of Procore (the
// emulator), reads errors.email_address from a refused update, as it does
// pointed at the emulator directly: each refused call has the same status
// and a body of the same shape, and the bodies Procore itself answered
// (an address already taken, an unknown user) are Procore's, passed
// through.
func TestProcoreJSSDKReadsErrors(t *testing.T) {
	node, sdk := procoreSDK(t)
	s := startStack(t, withoutRateLimits(), withPassThrough(), withRequired(service.RequiredFieldsMaskedOnly))
	admin, ok := s.emu.AdminClient()
	if !ok {
		t.Fatal("the seed lacks an admin client")
	}
	token, err := s.emu.IssueToken(admin.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	s.emu.ResetRequests()
	viaService := runProcoreSDK(t, node, sdk, s.rest.URL, token)
	if gets, patches := countRequests(s); patches != 1 || gets != 1 {
		t.Errorf("upstream got %d GETs and %d PATCHes from the service, want 1 and 1 (the invalid address never leaves it)", gets, patches)
	}
	direct := runProcoreSDK(t, node, sdk, s.emu.URL, token)
	for _, name := range []string{"invalid email", "email taken", "unknown user"} {
		got, want := viaService[name], direct[name]
		t.Logf("%s: through the service HTTP %d %v; from Procore HTTP %d %v", name, got.Status, got.Body, want.Status, want.Body)
		if got.Status != want.Status {
			t.Errorf("%s: the service answers HTTP %d, Procore %d (%v / %v)", name, got.Status, want.Status, got.Body, want.Body)
		}
		if gs, ws := jsonShape(got.Body), jsonShape(want.Body); gs != ws {
			t.Errorf("%s: body shape %s through the service, %s from Procore (%v / %v)", name, gs, ws, got.Body, want.Body)
		}
		if name != "unknown user" && (len(got.EmailAddress) == 0 || len(want.EmailAddress) == 0) {
			t.Errorf("%s: errors.email_address %q through the service, %q from Procore", name, got.EmailAddress, want.EmailAddress)
		}
		if name != "invalid email" && !reflect.DeepEqual(got.Body, want.Body) { // Procore's own answer, passed through
			t.Errorf("%s: body %v through the service, Procore's %v", name, got.Body, want.Body)
		}
	}
	if r := viaService["invalid email"]; r.Status != 422 {
		t.Errorf("invalid email: HTTP %d, want Procore's 422", r.Status)
	}
}

// countRequests counts the emulator's logged GETs and PATCHes.
func countRequests(s *stack) (gets, patches int) {
	for _, r := range s.emu.Requests() {
		switch r.Method {
		case "GET":
			gets++
		case "PATCH":
			patches++
		}
	}
	return gets, patches
}

// jsonShape describes a decoded JSON value by its types and object keys
// (arrays by their first element), not its values: two error bodies of
// the same shape are read by the same client code.
func jsonShape(v any) string {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%q:%s", k, jsonShape(v[k]))
		}
		return "{" + strings.Join(parts, ",") + "}"
	case []any:
		if len(v) == 0 {
			return "[]"
		}
		return "[" + jsonShape(v[0]) + "]"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}
