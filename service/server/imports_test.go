package server_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/procore-directory/procore-directory"

// stdlib reports whether path is a standard-library package (its first
// element has no dot).
func stdlib(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// TestPackagesKeepTheirImports: the server and the packages it assembles
// whose doc comments promise what they do not import keep that promise
// (non-test files only).
func TestPackagesKeepTheirImports(t *testing.T) {
	tests := []struct {
		dir     string
		allowed func(path string) bool
	}{
		{dir: ".", allowed: func(p string) bool {
			return p != "flag" && p != "os" && !strings.HasPrefix(p, module+"/cmd/") && !strings.HasPrefix(p, module+"/upstream/procoretest")
		}},
		{dir: "../inprocess", allowed: func(p string) bool {
			return (stdlib(p) && !strings.HasPrefix(p, "net/http")) ||
				strings.HasPrefix(p, "google.golang.org/grpc") || strings.HasPrefix(p, "google.golang.org/protobuf/")
		}},
		{dir: "../state", allowed: stdlib},
		{dir: "../state/redisstate", allowed: func(p string) bool {
			return (stdlib(p) && !strings.HasPrefix(p, "net/http")) ||
				p == module+"/service/state" || p == "github.com/redis/go-redis/v9"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			files, err := filepath.Glob(filepath.Join(tt.dir, "*.go"))
			if err != nil || len(files) == 0 {
				t.Fatalf("no Go files in %s: %v", tt.dir, err)
			}
			for _, name := range files {
				if strings.HasSuffix(name, "_test.go") {
					continue
				}
				src, err := os.ReadFile(name)
				if err != nil {
					t.Fatal(err)
				}
				f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.ImportsOnly)
				if err != nil {
					t.Fatal(err)
				}
				for _, imp := range f.Imports {
					p, err := strconv.Unquote(imp.Path.Value)
					if err != nil {
						t.Fatal(err)
					}
					if !tt.allowed(p) {
						t.Errorf("%s imports %s, which its package doc comment rules out", name, p)
					}
				}
			}
		})
	}
}
