package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"
)

// operationsDoc is where an operator looks a flag up.
const operationsDoc = "../../docs/operations.md"

// helpFlagRE matches a flag's line in `directoryd --help`: two spaces, a
// dash, the name.
var helpFlagRE = regexp.MustCompile(`(?m)^  -([a-z0-9-]+)`)

// docFlagRowRE matches the first cell of a row of the flag table in
// docs/operations.md, which may name several flags (`--tls-cert`, `--tls-key`).
var docFlagRowRE = regexp.MustCompile("(?m)^\\| (`--[a-z0-9-]+`(?:, `--[a-z0-9-]+`)*) \\|")

// helpFlags returns the names of the flags `directoryd --help` prints, read
// from the same flag set main parses.
func helpFlags(t *testing.T) []string {
	t.Helper()
	var usage bytes.Buffer
	if _, err := parseConfig([]string{"--help"}, func(string) string { return "" }, &usage); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: got %v, want flag.ErrHelp", err)
	}
	var names []string
	for _, m := range helpFlagRE.FindAllStringSubmatch(usage.String(), -1) {
		names = append(names, m[1])
	}
	if len(names) < 40 {
		t.Fatalf("--help printed %d flags, expected them all:\n%s", len(names), usage.String())
	}
	return names
}

// TestDocsListEveryFlag: docs/operations.md's flag table has a row for
// every flag `directoryd --help` prints, and no row for a flag that does
// not exist, so an operator finds each one and none that is gone.
func TestDocsListEveryFlag(t *testing.T) {
	doc, err := os.ReadFile(operationsDoc)
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range docFlagRowRE.FindAllStringSubmatch(string(doc), -1) {
		for _, cell := range strings.Split(m[1], ", ") {
			documented[strings.Trim(cell, "`-")] = true
		}
	}
	flags := helpFlags(t)
	for _, name := range flags {
		if !documented[name] {
			t.Errorf("--%s (printed by directoryd --help) has no row in %s's flag table", name, operationsDoc)
		}
	}
	exists := map[string]bool{}
	for _, name := range flags {
		exists[name] = true
	}
	for name := range documented {
		if !exists[name] {
			t.Errorf("%s documents --%s, which directoryd --help does not print", operationsDoc, name)
		}
	}
}

// TestREADMEExamplesAreDevCommands: each grpcurl and curl command of the
// README's "Try it" is one that `directoryd --dev` prints, on its default
// addresses, so TestDevQuickstart, which runs every printed command against
// the real binary, runs the README's examples too.
func TestREADMEExamplesAreDevCommands(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Try it\n")
	if !ok {
		t.Fatal(`README.md has no "Try it" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var help bytes.Buffer
	printDevHelp(&help, "127.0.0.1:9090", "127.0.0.1:8080")
	printed := map[string]bool{}
	for _, line := range strings.Split(help.String(), "\n") {
		printed[strings.TrimSpace(line)] = true
	}
	examples := 0
	for _, line := range strings.Split(strings.ReplaceAll(section, "\\\n", ""), "\n") {
		line = strings.Join(strings.Fields(line), " ")
		if !strings.HasPrefix(line, "grpcurl ") && !strings.HasPrefix(line, "curl ") {
			continue
		}
		examples++
		if !printed[line] {
			t.Errorf("the README's example %q is not a command directoryd --dev prints:\n%s", line, help.String())
		}
	}
	if examples < 3 {
		t.Errorf("the README's Try it has %d grpcurl/curl examples, want one grpcurl and curl on both routes", examples)
	}
}
