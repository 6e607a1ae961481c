package client_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/procore-directory/procore-directory/client"
)

// serviceConfigMarker precedes the README's copy of serviceconfig.json.
const serviceConfigMarker = "<!-- client/serviceconfig.json: kept equal by client/readme_test.go -->"

// TestREADMEIncludesTheTestedServiceConfig: the service config the README
// gives is, byte for byte, the one TestRecipe dials the server with, and
// it is valid JSON.
func TestREADMEIncludesTheTestedServiceConfig(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), serviceConfigMarker+"\n```json\n")
	if !ok {
		t.Fatalf("README.md has no %q followed by a json block", serviceConfigMarker)
	}
	block, _, ok := strings.Cut(after, "```")
	if !ok {
		t.Fatal("the README's json block is not closed")
	}
	if block != client.ServiceConfig() {
		t.Errorf("README.md's service config differs from client/serviceconfig.json:\n%s\nwant:\n%s", block, client.ServiceConfig())
	}
	if !json.Valid([]byte(client.ServiceConfig())) {
		t.Error("client/serviceconfig.json is not valid JSON")
	}
	for _, want := range []string{"github.com/procore-directory/procore-directory/gen/procore/directory/v1", "client.DialOptions()", "client.Details("} {
		if !strings.Contains(string(readme), want) {
			t.Errorf("README.md does not mention %s", want)
		}
	}
}
