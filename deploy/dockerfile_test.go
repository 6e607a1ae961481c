package deploy

import (
	"os"
	"strings"
	"testing"
)

// TestDockerfile checks the container's promises without a Docker engine
// (none runs on the CI machines): a multi-stage build of a static binary,
// a non-root user, and no --dev by default.
func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var from, user, entry []string
	static := false
	for _, line := range strings.Split(string(data), "\n") {
		switch f := strings.Fields(line); {
		case len(f) == 0 || strings.HasPrefix(f[0], "#"):
		case f[0] == "FROM":
			from = append(from, line)
		case f[0] == "USER":
			user = append(user, f[1])
		case f[0] == "ENTRYPOINT" || f[0] == "CMD":
			entry = append(entry, line)
		case f[0] == "RUN" && strings.Contains(line, "CGO_ENABLED=0") && strings.Contains(line, "go build"):
			static = true
		}
	}
	if len(from) < 2 {
		t.Errorf("not multi-stage: %v", from)
	}
	if !static {
		t.Error("the binary is not built with CGO_ENABLED=0 (static)")
	}
	if len(user) == 0 || strings.HasPrefix(user[len(user)-1], "0") || user[len(user)-1] == "root" {
		t.Errorf("runs as %v", user)
	}
	for _, e := range entry {
		if strings.Contains(e, "--dev") {
			t.Errorf("starts in dev mode: %s", e)
		}
	}
}
