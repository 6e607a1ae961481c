package service

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/procore-directory/procore-directory/service/audit"
	"github.com/procore-directory/procore-directory/service/audit/redisaudit"
	"github.com/procore-directory/procore-directory/service/state/redisstate"
	"github.com/procore-directory/procore-directory/service/state/redisstate/redistest"
)

// BenchmarkUpdateAudit is BenchmarkUpdateHandler without an audit trail,
// with the default sink (stderr: here /dev/null, so the write is a real
// syscall without a reader's cost) not required (the outcome only) and
// required (the write-ahead record too), with a required file sink
// (appended and fsync'd per write), and with a required Redis Stream on a
// local redis-server's Unix socket, without persistence and with
// appendfsync always (as docs/operations.md asks of the trail's Redis):
// what the trail costs each update (BENCHMARKS.md, "Audit trail").
func BenchmarkUpdateAudit(b *testing.B) {
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = devNull.Close() })
	b.Run("none", func(b *testing.B) { benchUpdate(b) })
	b.Run("stderr", func(b *testing.B) {
		benchUpdate(b, WithAuditor(audit.NewRecorder([]audit.Sink{audit.NewWriterSink(devNull)})))
	})
	b.Run("stderr-required", func(b *testing.B) {
		benchUpdate(b, WithAuditor(audit.NewRecorder([]audit.Sink{audit.NewWriterSink(devNull)}, audit.WithRequired(true))))
	})
	b.Run("file-required", func(b *testing.B) {
		f, err := audit.OpenFile(filepath.Join(b.TempDir(), "audit.jsonl"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = f.Close() })
		benchUpdate(b, WithAuditor(audit.NewRecorder([]audit.Sink{f}, audit.WithRequired(true))))
	})
	for name, opts := range map[string][]redistest.Option{"redis-required": nil, "redis-durable-required": {redistest.Durable()}} {
		b.Run(name, func(b *testing.B) {
			srv := redistest.Start(b, opts...)
			conn, err := redisstate.Open(context.Background(), srv.URL())
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = conn.Close() })
			benchUpdate(b, WithAuditor(audit.NewRecorder([]audit.Sink{redisaudit.New(conn, 0)}, audit.WithRequired(true))))
		})
	}
}
