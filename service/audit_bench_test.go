package service

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/procore-directory/procore-directory/service/audit"
)

// BenchmarkUpdateAudit is BenchmarkUpdateHandler without an audit trail,
// with the default sink (stderr: here /dev/null, so the write is a real
// syscall without a reader's cost) and with a file sink (appended and
// fsync'd per event): what the trail costs each update (BENCHMARKS.md,
// "Audit trail").
func BenchmarkUpdateAudit(b *testing.B) {
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = devNull.Close() })
	b.Run("none", func(b *testing.B) { benchUpdate(b) })
	b.Run("stderr", func(b *testing.B) {
		benchUpdate(b, WithAuditor(audit.NewRecorder([]audit.Sink{audit.NewWriterSink(devNull)}, audit.WithRequired(true))))
	})
	b.Run("file", func(b *testing.B) {
		f, err := audit.OpenFile(filepath.Join(b.TempDir(), "audit.jsonl"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = f.Close() })
		benchUpdate(b, WithAuditor(audit.NewRecorder([]audit.Sink{f}, audit.WithRequired(true))))
	})
}
