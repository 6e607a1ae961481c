package redisqueue_test

import (
	"context"
	"testing"
	"time"

	"github.com/procore-directory/procore-directory/service/batch/redisqueue"
	"github.com/procore-directory/procore-directory/service/state/redisstate"
	"github.com/procore-directory/procore-directory/service/state/redisstate/redistest"
)

// TestOnConn: on the fleet's connection the queue's keys are under its
// prefix, and a failed command turns the connection's state down at once
// (not at the next probe).
func TestOnConn(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	conn, err := redisstate.Open(context.Background(), srv.URL(), redisstate.WithPrefix("fleet7:"),
		redisstate.WithProbeInterval(time.Hour), redisstate.WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	q := redisqueue.OnConn(conn, redisqueue.WithPoll(20*time.Millisecond))
	t.Cleanup(func() { _ = q.Close() })
	ctx := ctxFor(t, 10*time.Second)
	must(t, q.Push(ctx, chunks("operations/c", 1, 1)))
	if n := client(t, srv).XLen(ctx, "fleet7:batch:{queue}:chunks").Val(); n != 1 {
		t.Fatalf("the stream under the connection's prefix holds %d entries, want 1", n)
	}
	must(t, claim(t, q, 5*time.Second).Done(ctx))
	if !conn.Up() {
		t.Fatal("connection down before Redis is")
	}
	srv.Kill()
	if _, err := q.Claim(ctx); err == nil {
		t.Fatal("Claim without Redis succeeded")
	}
	if conn.Up() {
		t.Error("a failed Claim left the connection up")
	}
}
