package grafana

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// committed is the dashboard JSON as committed (this test runs in
// deploy/grafana).
func committed(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Base(File))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestCommittedIsGenerated: the committed JSON is what the code builds, so
// `make generate` gives no diff (CI also checks the diff).
func TestCommittedIsGenerated(t *testing.T) {
	want, err := JSON()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(committed(t), want) {
		t.Fatalf("%s is stale: run `make generate`", File)
	}
}

// decodeStrict decodes data into d after checking it with the SDK's
// strict decoder, UnmarshalJSONStrict. In v0.0.22 that decoder reports
// success as an empty cog.BuildErrors in a non-nil error, and so drops
// every panel it decoded without error (PanelOrRowPanel returns on the
// non-nil error before keeping the panel); its errors are real. The
// values are therefore taken from the SDK's ordinary decoder, into the
// same type.
func decodeStrict(d *dashboard.Dashboard, data []byte) error {
	var strict dashboard.Dashboard
	if err := strict.UnmarshalJSONStrict(data); err != nil {
		if errs, ok := err.(cog.BuildErrors); !ok || len(errs) > 0 {
			return err
		}
	}
	return json.Unmarshal(data, d)
}

// TestDecodesStrictly: the committed JSON decodes into the foundation
// SDK's Grafana dashboard type with its strict decoder (an unknown or
// mistyped field is an error), panel options and queries included.
func TestDecodesStrictly(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	var d dashboard.Dashboard
	if err := decodeStrict(&d, committed(t)); err != nil {
		t.Fatalf("strict decode: %v", err)
	}
	// The decoder is strict indeed: a misspelt field is refused, at the
	// top and in a panel.
	for _, field := range []string{`"refresh":`, `"description":`, `"gridPos":`} {
		bad := bytes.Replace(committed(t), []byte(field), []byte(`"x`+field[1:]), 2)
		if err := decodeStrict(&dashboard.Dashboard{}, bad); err == nil {
			t.Errorf("misspelt %s decoded without an error", field)
		}
	}
	if d.Uid == nil || *d.Uid != UID {
		t.Errorf("uid %v, want %s", d.Uid, UID)
	}
	var vars []string
	for _, v := range d.Templating.List {
		vars = append(vars, v.Name)
	}
	if !slices.Equal(vars, []string{"datasource", "job", "instance"}) {
		t.Errorf("variables %v, want datasource, job, instance", vars)
	}
	var rows []string
	ids := map[uint32]bool{}
	panels := 0
	for _, p := range d.Panels {
		switch {
		case p.RowPanel != nil:
			rows = append(rows, *p.RowPanel.Title)
			ids[p.RowPanel.Id] = true
		case p.Panel != nil:
			panels++
			if p.Panel.Id == nil || ids[*p.Panel.Id] {
				t.Errorf("panel %v: missing or repeated id", p.Panel.Title)
			} else {
				ids[*p.Panel.Id] = true
			}
			if len(p.Panel.Targets) == 0 {
				t.Errorf("panel %v has no query", p.Panel.Title)
			}
		}
	}
	wantRows := []string{"Traffic and errors (gRPC and REST)", "Latency", "Procore's budget", "Procore's answers and retries",
		"Reconciliations", "Circuit breaker", "Replicas and shared state", "Batch operations", "Audit trail"}
	if !slices.Equal(rows, wantRows) {
		t.Errorf("rows %q, want %q", rows, wantRows)
	}
	if panels < len(wantRows) {
		t.Errorf("%d panels", panels)
	}
}
