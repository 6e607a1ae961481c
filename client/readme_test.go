package client_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strings"
	"testing"

	"github.com/procore-directory/procore-directory/client"
)

// serviceConfigMarker precedes docs/api.md's copy of serviceconfig.json.
const serviceConfigMarker = "<!-- client/serviceconfig.json: kept equal by client/readme_test.go -->"

// exampleMarker precedes the README's copy of Example's body.
const exampleMarker = "<!-- client/example_test.go Example: kept equal by client/readme_test.go -->"

// markedBlock returns the fenced block of the given language that follows
// marker in the file.
func markedBlock(t *testing.T, file, marker, lang string) string {
	t.Helper()
	text, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(text), marker+"\n```"+lang+"\n")
	if !ok {
		t.Fatalf("%s has no %q followed by a %s block", file, marker, lang)
	}
	block, _, ok := strings.Cut(after, "```")
	if !ok {
		t.Fatalf("%s: the %s block is not closed", file, lang)
	}
	return block
}

// TestREADMEIncludesTheTestedServiceConfig: the service config the
// documentation gives (docs/api.md, "Calling it from Go") is, byte for
// byte, the one TestRecipe dials the server with, and it is valid JSON;
// the README points Go callers at the generated client and the recipe.
func TestREADMEIncludesTheTestedServiceConfig(t *testing.T) {
	if block := markedBlock(t, "../docs/api.md", serviceConfigMarker, "json"); block != client.ServiceConfig() {
		t.Errorf("docs/api.md's service config differs from client/serviceconfig.json:\n%s\nwant:\n%s", block, client.ServiceConfig())
	}
	if !json.Valid([]byte(client.ServiceConfig())) {
		t.Error("client/serviceconfig.json is not valid JSON")
	}
	for _, file := range []string{"../README.md", "../docs/api.md"} {
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"github.com/procore-directory/procore-directory/gen/procore/directory/v1", "client.DialOptions()", "client.Details("} {
			if !strings.Contains(string(text), want) {
				t.Errorf("%s does not mention %s", file, want)
			}
		}
	}
}

// TestREADMEGoExampleIsCompiled: the README's Go example is, verbatim, the
// body of Example in example_test.go (one tab less), which the compiler
// checks on every test run.
func TestREADMEGoExampleIsCompiled(t *testing.T) {
	src, fset, fn := exampleFunc(t, "Example")
	body := fn.Body
	inner := string(src[fset.Position(body.Lbrace).Offset+1 : fset.Position(body.Rbrace).Offset])
	var want strings.Builder
	for _, line := range strings.Split(strings.TrimPrefix(inner, "\n"), "\n") {
		want.WriteString(strings.TrimPrefix(line, "\t") + "\n")
	}
	got := markedBlock(t, "../README.md", exampleMarker, "go")
	if got != strings.TrimSuffix(want.String(), "\n") {
		t.Errorf("README.md's Go example differs from Example in client/example_test.go:\n%s\nwant:\n%s", got, want.String())
	}
}

// exampleFunc returns example_test.go's source and its function name.
func exampleFunc(t *testing.T, name string) ([]byte, *token.FileSet, *ast.FuncDecl) {
	t.Helper()
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "example_test.go", src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	for _, decl := range f.Decls {
		if fn, ok := decl.(*ast.FuncDecl); ok && fn.Name.Name == name {
			return src, fset, fn
		}
	}
	t.Fatalf("example_test.go has no func %s", name)
	return nil, nil, nil
}

// batchExampleMarker precedes docs/api.md's copy of updateTitles.
const batchExampleMarker = "<!-- client/example_test.go updateTitles: kept equal by client/readme_test.go -->"

// TestAPIDocGoBatchExampleIsCompiled: docs/api.md's Go batch example is,
// verbatim, the function updateTitles in example_test.go, which the
// compiler checks and TestBatchExample runs.
func TestAPIDocGoBatchExampleIsCompiled(t *testing.T) {
	src, fset, fn := exampleFunc(t, "updateTitles")
	want := string(src[fset.Position(fn.Type.Func).Offset:fset.Position(fn.Body.Rbrace).Offset+1]) + "\n"
	if got := markedBlock(t, "../docs/api.md", batchExampleMarker, "go"); got != want {
		t.Errorf("docs/api.md's Go batch example differs from updateTitles in client/example_test.go:\n%s\nwant:\n%s", got, want)
	}
}
