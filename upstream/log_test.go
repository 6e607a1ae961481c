package upstream

import (
	"github.com/procore-directory/procore-directory/upstream/procoretest/logsink"

	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

func TestDebugLogHasNoSecrets(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "ana@example.com")
			return
		}
		writeUser(w)
	})
	var buf logsink.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, _, ctx := newTestClient(t, f.URL, WithLogger(logger))
	if _, err := callAs(ctx, c, http.MethodPatch); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("want one line per attempt, got:\n%s", out)
	}
	for _, want := range []string{"method=PATCH", "route=/rest/v1.3/companies/{company_id}/users/{id}", "status=503", "status=200", "attempt=1", "attempt=2", "credential=" + TokenID(testToken), "duration_ms="} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	for _, bad := range []string{testToken, "ana@example.com", "Diaz", "/8089/"} {
		if strings.Contains(out, bad) {
			t.Errorf("log contains %q:\n%s", bad, out)
		}
	}
}
