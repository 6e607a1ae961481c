package gateway

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestImports holds the package's production code to what doc.go says it
// imports: of this module only the generated code and service/apierr, and
// neither Prometheus nor OpenTelemetry.
func TestImports(t *testing.T) {
	const module = "github.com/procore-directory/procore-directory/"
	allowed := []string{"gen/google/longrunning", "gen/openapi", "gen/procore/directory/v1", "service/apierr"}
	forbidden := []string{"github.com/prometheus/", "go.opentelemetry.io/"}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, spec := range f.Imports {
			path, _ := strconv.Unquote(spec.Path.Value)
			if rel, ok := strings.CutPrefix(path, module); ok && !slices.Contains(allowed, rel) {
				t.Errorf("%s imports %s: the gateway imports only %v of this module", name, path, allowed)
			}
			for _, prefix := range forbidden {
				if strings.HasPrefix(path, prefix) {
					t.Errorf("%s imports %s: telemetry comes in as middleware", name, path)
				}
			}
		}
	}
}
