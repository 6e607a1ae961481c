package main

import (
	"bytes"
	"strings"
	"testing"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
)

// TestProgress: the bar counts succeeded + failed of total, says how many
// failed, and ends its line; not shown, it writes nothing (isTerminal
// decides, since progressbar draws on any writer).
func TestProgress(t *testing.T) {
	md := func(total, ok, failed int32) *directoryv1.BatchUpdateCompanyUsersMetadata {
		return &directoryv1.BatchUpdateCompanyUsersMetadata{Total: total, Succeeded: ok, Failed: failed, Pending: total - ok - failed}
	}
	tests := []struct {
		name    string
		show    bool
		updates []*directoryv1.BatchUpdateCompanyUsersMetadata
		want    []string
	}{
		{"done", true, []*directoryv1.BatchUpdateCompanyUsersMetadata{md(0, 0, 0), md(4, 0, 0), md(4, 3, 1)}, []string{"(4/4", "1 failed", "100%"}},
		{"interrupted: the line ends where it stopped", true, []*directoryv1.BatchUpdateCompanyUsersMetadata{md(4, 2, 0)}, []string{"(2/4", " 50%"}},
		{"not shown", false, []*directoryv1.BatchUpdateCompanyUsersMetadata{md(4, 4, 0)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			p := newProgress(&buf, tt.show)
			for _, u := range tt.updates {
				p.update(u)
			}
			p.close()
			out := buf.String()
			if !tt.show {
				if out != "" {
					t.Errorf("drew %q", out)
				}
				return
			}
			for _, want := range tt.want {
				if !strings.Contains(out, want) {
					t.Errorf("%q lacks %q", out, want)
				}
			}
			if !strings.HasSuffix(out, "\n") {
				t.Errorf("%q: the line is not ended", out)
			}
		})
	}
	if isTerminal(&bytes.Buffer{}) {
		t.Error("a buffer is a terminal")
	}
}
