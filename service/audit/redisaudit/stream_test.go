package redisaudit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/procore-directory/procore-directory/service/audit"
	"github.com/procore-directory/procore-directory/service/audit/redisaudit"
	"github.com/procore-directory/procore-directory/service/state/redisstate"
	"github.com/procore-directory/procore-directory/service/state/redisstate/redistest"
)

// TestStreamAppendsBoundedAndSaysWhenDown: events are appended in order to
// one Stream under the connection's prefix, trimmed to about maxEvents;
// with Redis gone a write fails, the sink says it is down, and a required
// Recorder refuses write-ahead records until it is back; the records of
// many writes go in one pipeline.
func TestStreamAppendsBoundedAndSaysWhenDown(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	conn, err := redisstate.Open(ctx, srv.URL(), redisstate.WithPrefix("t:"), redisstate.WithProbeInterval(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sink := redisaudit.New(conn, 100)
	lost := 0
	rec := audit.NewRecorder([]audit.Sink{sink}, audit.WithRequired(true), audit.WithLost(func(string) { lost++ }))
	for i := range 500 {
		if err := rec.Record(ctx, audit.Event{CompanyID: 1, UserID: int64(i), Outcome: audit.OutcomeApplied}); err != nil {
			t.Fatal(err)
		}
	}
	c := redis.NewClient(srv.Options())
	defer c.Close()
	n, err := c.XLen(ctx, "t:audit").Result()
	if err != nil {
		t.Fatal(err)
	}
	if n < 100 || n > 200 {
		t.Fatalf("%d entries, want about 100 (MAXLEN ~)", n)
	}
	last, err := c.XRevRangeN(ctx, "t:audit", "+", "-", 1).Result()
	if err != nil || len(last) != 1 {
		t.Fatal(err)
	}
	var e audit.Event
	if err := json.Unmarshal([]byte(fmt.Sprint(last[0].Values["event"])), &e); err != nil || e.UserID != 499 {
		t.Fatalf("last entry %v (%v)", last[0].Values, err)
	}

	srv.Kill()
	if err := rec.Record(ctx, audit.Event{UserID: 1000}); err == nil {
		t.Fatal("a write to a dead Redis succeeded")
	}
	if lost != 1 {
		t.Fatalf("lost %d, want 1", lost)
	}
	if err := rec.Sending(ctx, "update", audit.Event{UserID: 1001}); err == nil {
		t.Fatal("a write-ahead record was accepted with Redis gone")
	}
	srv.Restart()
	deadline := time.Now().Add(10 * time.Second)
	for rec.Sending(ctx, "update", audit.Event{UserID: 1002}, audit.Event{UserID: 1003}) != nil {
		if time.Now().After(deadline) {
			t.Fatal("never ready again after Redis came back")
		}
		time.Sleep(20 * time.Millisecond) // polling the probe's observable state, with a deadline
	}
	all, err := c.XRange(ctx, "t:audit", "-", "+").Result()
	if err != nil || len(all) != 2 {
		t.Fatalf("after the restart: %d entries (%v), want the two write-ahead records", len(all), err)
	}
	if err := json.Unmarshal([]byte(fmt.Sprint(all[1].Values["event"])), &e); err != nil || e.UserID != 1003 || e.Event != audit.KindSending {
		t.Fatalf("last entry %v (%v)", all[1].Values, err)
	}
}
