// Package docs_test keeps the documentation true: every ErrorInfo reason the
// code can produce is in api.md, the README's commands are the ones CI and
// the Makefile run, every relative link and anchor resolves, and the
// README's call path names files that exist. (The flags are checked against
// operations.md by cmd/directoryd's TestDocsListEveryFlag, which reads the
// flag set main parses.)
package docs_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// root is the repository root, seen from this package's directory.
const root = ".."

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// errorReasons returns every string constant named Reason* declared in the
// module's non-test Go files: the google.rpc.ErrorInfo reasons (the
// vocabulary in service/apierr, and any a package adds, such as
// service/server's TOO_MANY_STREAMS). Generated code and the Procore
// emulator (which speaks Procore's errors, not ours) are left out.
func errorReasons(t *testing.T) map[string]string {
	t.Helper()
	skip := map[string]bool{".git": true, ".tools": true, "gen": true, "node_modules": true, "testdata": true, "procoretest": true}
	reasons := map[string]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && skip[d.Name()] {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			gen, ok := decl.(*ast.GenDecl)
			if !ok || gen.Tok != token.CONST {
				continue
			}
			for _, spec := range gen.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if !isReasonName(name.Name) || i >= len(vs.Values) {
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					v, err := strconv.Unquote(lit.Value)
					if err != nil {
						return err
					}
					reasons[v] = path + ": " + name.Name
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return reasons
}

// isReasonName: Reason followed by an upper-case letter (ReasonNotFound),
// exported or not.
func isReasonName(name string) bool {
	rest, ok := strings.CutPrefix(name, "Reason")
	if !ok {
		rest, ok = strings.CutPrefix(name, "reason")
	}
	return ok && rest != "" && unicode.IsUpper(rune(rest[0]))
}

// TestAPIDocNamesEveryErrorReason: a caller branching on an ErrorInfo
// reason finds each one the code can produce in docs/api.md.
func TestAPIDocNamesEveryErrorReason(t *testing.T) {
	reasons := errorReasons(t)
	// The vocabulary has 29 reasons today: fewer means the scan lost the
	// constants (moved into a file it skips), not that they went away.
	if len(reasons) < 29 {
		t.Fatalf("found %d ErrorInfo reasons, expected at least 29: %v", len(reasons), reasons)
	}
	api := read(t, "docs/api.md")
	for reason, where := range reasons {
		if !strings.Contains(api, "`"+reason+"`") {
			t.Errorf("ErrorInfo reason %s (%s) is not in docs/api.md", reason, where)
		}
	}
}

// TestREADMECommandsAreWhatCIRuns: the README's two commands are the
// Makefile's run target and, exactly, the test command .ci/run runs.
func TestREADMECommandsAreWhatCIRuns(t *testing.T) {
	const marker = "<!-- commands: checked by docs/docs_test.go against the Makefile and .ci/run -->\n```sh\n"
	_, after, ok := strings.Cut(read(t, "README.md"), marker)
	if !ok {
		t.Fatalf("README.md has no %q", marker)
	}
	block, _, _ := strings.Cut(after, "```")
	var commands, comments []string
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		cmd, comment, _ := strings.Cut(line, "#")
		commands = append(commands, strings.TrimSpace(cmd))
		comments = append(comments, comment)
	}
	if len(commands) != 2 {
		t.Fatalf("README's quick start has %d commands, want run and test: %q", len(commands), commands)
	}

	// Run: a make target whose recipe the README spells out.
	makefile := read(t, "Makefile")
	target, ok := strings.CutPrefix(commands[0], "make ")
	if !ok {
		t.Fatalf("README's run command %q is not a make target", commands[0])
	}
	recipe := makeRecipe(t, makefile, target)
	if recipe != "go run ./cmd/directoryd --dev" {
		t.Errorf("make %s runs %q, want go run ./cmd/directoryd --dev", target, recipe)
	}
	if !strings.Contains(comments[0], recipe) {
		t.Errorf("README's run command says %q, not what make %s runs (%q)", comments[0], target, recipe)
	}

	// Test: exactly CI's command, which `make test` runs too.
	var ci []string
	for _, line := range strings.Split(read(t, ".ci/run"), "\n") {
		if strings.HasPrefix(line, "go test ") {
			ci = append(ci, line)
		}
	}
	if len(ci) != 1 {
		t.Fatalf(".ci/run has %d top-level go test commands, want 1: %q", len(ci), ci)
	}
	if commands[1] != ci[0] {
		t.Errorf("README's test command is %q, .ci/run runs %q", commands[1], ci[0])
	}
	if got := makeRecipe(t, makefile, "test"); got != ci[0] {
		t.Errorf("make test runs %q, .ci/run runs %q", got, ci[0])
	}
}

// makeRecipe returns the one recipe line of a Makefile target.
func makeRecipe(t *testing.T, makefile, target string) string {
	t.Helper()
	_, after, ok := strings.Cut(makefile, "\n"+target+":\n\t")
	if !ok {
		t.Fatalf("the Makefile has no target %q with a recipe", target)
	}
	line, _, _ := strings.Cut(after, "\n")
	return line
}

// linkRE matches a markdown link's target: [text](target).
var linkRE = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// headingRE matches a markdown heading's text.
var headingRE = regexp.MustCompile(`(?m)^#{1,6} (.+)$`)

// anchor is GitHub's anchor for a heading: lower case, punctuation dropped,
// spaces as dashes.
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

func anchors(text string) map[string]bool {
	out := map[string]bool{}
	for _, m := range headingRE.FindAllStringSubmatch(stripCode(text), -1) {
		out[anchor(m[1])] = true
	}
	return out
}

// stripCode drops fenced code blocks, whose lines are neither headings nor
// links.
func stripCode(text string) string {
	var b strings.Builder
	fenced := false
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
			continue
		}
		if !fenced {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// TestDocLinksResolve: every relative link in the README and docs/*.md
// names a file that exists and, with #anchor, a heading of that file; the
// README links to each document under docs/ and each links back.
func TestDocLinksResolve(t *testing.T) {
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil || len(docs) < 3 {
		t.Fatalf("docs/*.md: %v, %v", docs, err)
	}
	files := append([]string{filepath.Join(root, "README.md")}, docs...)
	links := map[string]map[string]bool{} // file -> the files it links to
	for _, file := range files {
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		links[file] = map[string]bool{}
		for _, m := range linkRE.FindAllStringSubmatch(stripCode(string(text)), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path, frag, _ := strings.Cut(target, "#")
			dest := file
			if path != "" {
				dest = filepath.Join(filepath.Dir(file), path)
			}
			links[file][filepath.Clean(dest)] = true
			destText, err := os.ReadFile(dest)
			if err != nil {
				t.Errorf("%s: link %s: %v", file, target, err)
				continue
			}
			if frag != "" && !anchors(string(destText))[frag] {
				t.Errorf("%s: link %s: %s has no heading with anchor #%s", file, target, dest, frag)
			}
		}
	}
	readme := filepath.Join(root, "README.md")
	for _, doc := range docs {
		if !links[readme][filepath.Clean(doc)] {
			t.Errorf("README.md does not link to %s", doc)
		}
		if !links[doc][filepath.Clean(readme)] {
			t.Errorf("%s does not link back to README.md", doc)
		}
	}
}

// pathRE matches a backquoted repository path of a Go file.
var pathRE = regexp.MustCompile("`([a-z0-9_]+(?:/[a-z0-9_]+)*/[a-z0-9_]+\\.go)`")

// TestREADMECallPathNamesRealFiles: the README's numbered list of one gRPC
// UpdateCompanyUser's path has at most 15 entries, and every file it names
// exists, so a maintainer following it never opens a file that is gone.
func TestREADMECallPathNamesRealFiles(t *testing.T) {
	_, layout, ok := strings.Cut(read(t, "README.md"), "\n## Layout\n")
	if !ok {
		t.Fatal("README.md has no Layout section")
	}
	layout, _, _ = strings.Cut(layout, "\n## ")
	items := regexp.MustCompile(`(?m)^\d+\. `).FindAllString(layout, -1)
	if len(items) == 0 || len(items) > 15 {
		t.Errorf("the README's call path has %d numbered files, want 1 to 15", len(items))
	}
	for _, m := range pathRE.FindAllStringSubmatch(layout, -1) {
		if _, err := os.Stat(filepath.Join(root, m[1])); err != nil {
			t.Errorf("the README's Layout names %s: %v", m[1], err)
		}
	}
}
