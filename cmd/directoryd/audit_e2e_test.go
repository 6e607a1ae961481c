package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/procore-directory/procore-directory/service/apierr"
	"github.com/procore-directory/procore-directory/service/audit"
	"github.com/procore-directory/procore-directory/service/audit/audittest"
	"github.com/procore-directory/procore-directory/service/state/redisstate/redistest"
)

// lostRE reads directoryd_audit_events_lost_total for one sink.
var lostRE = regexp.MustCompile(`(?m)^directoryd_audit_events_lost_total\{sink="redis"\} (\d+)$`)

func lostEvents(t *testing.T, httpAddr string) int {
	t.Helper()
	resp, err := http.Get("http://" + httpAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := lostRE.FindSubmatch(b)
	if m == nil {
		t.Fatalf("no directoryd_audit_events_lost_total{sink=\"redis\"} in /metrics")
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// assertEveryPatchHasItsEvent joins the emulator's request log with the
// trail: each PATCH has exactly one event with its X-Request-Id, naming its
// user and an outcome its status allows.
func assertEveryPatchHasItsEvent(t *testing.T, emuURL string, events []audit.Event) int {
	t.Helper()
	byRequest := map[string][]audit.Event{}
	for _, e := range events {
		if e.UpstreamRequestID != "" {
			byRequest[e.UpstreamRequestID] = append(byRequest[e.UpstreamRequestID], e)
		}
	}
	patches := 0
	for _, r := range requestLog(t, emuURL) {
		if r.Method != http.MethodPatch {
			continue
		}
		patches++
		evs := byRequest[r.RequestID]
		if len(evs) != 1 {
			t.Errorf("PATCH %s (%s, status %d): %d events, want 1", r.Path, r.RequestID, r.Status, len(evs))
			continue
		}
		if e := evs[0]; (r.Status == http.StatusOK) != (e.Outcome == audit.OutcomeApplied) || "/rest/v1.3/companies/8089/users/"+strconv.FormatInt(e.UserID, 10) != r.Path {
			t.Errorf("PATCH %s status %d: event %+v", r.Path, r.Status, e)
		}
	}
	return patches
}

// TestAuditRedisKilled kills the audit trail's Redis (durable: it keeps
// what it acknowledged) while updates run, then starts it again. With
// --audit-required, every PATCH in Procore's request log has its
// write-ahead record in the Redis Stream (joined by trace id): none was
// sent without its event, and while Redis was gone updates were refused
// (UNAVAILABLE, AUDIT_UNAVAILABLE) before anything was sent. Each PATCH
// also has exactly one final event in the file trail (joined by Procore's
// X-Request-Id). Without it, every update succeeds and the lost events
// are counted.
func TestAuditRedisKilled(t *testing.T) {
	const callers = 3
	for _, required := range []bool{true, false} {
		t.Run("required="+strconv.FormatBool(required), func(t *testing.T) {
			srv := redistest.Start(t, redistest.Durable())
			trail := filepath.Join(t.TempDir(), "audit.jsonl")
			f := startFleet(t, 1, srv.URL(), []string{"--hourly-limit", "0", "--spike-limit", "0", "--partial-bodies"},
				"--required-fields", "masked-only", "--audit", "file:"+trail+",redis", "--audit-required="+strconv.FormatBool(required))
			var mu sync.Mutex
			var refused, otherErrs int
			done := make(chan map[string]int, 1)
			go func() {
				done <- f.load(t, callers, 5*time.Second, func(err error) {
					mu.Lock()
					defer mu.Unlock()
					if status.Code(err) == codes.Unavailable && reason(err) == apierr.ReasonAuditUnavailable {
						refused++
						return
					}
					otherErrs++
					t.Errorf("a call failed: %v", err)
				})
			}()
			time.Sleep(1500 * time.Millisecond) // load shape: Redis goes at 1.5 s and is back at 3.5 s
			srv.Kill()
			waitShared(t, f.https[0], false)
			time.Sleep(time.Second)
			srv.Restart()
			counts := <-done
			waitShared(t, f.https[0], true)
			lost := lostEvents(t, f.https[0])
			patches := assertEveryPatchHasItsEvent(t, f.emuURL, audittest.ReadFile(t, trail))
			mu.Lock()
			defer mu.Unlock()
			t.Logf("answers %v, refused %d, PATCHes %d, lost to redis %d", counts, refused, patches, lost)
			if counts["OK"] == 0 || otherErrs > 0 {
				t.Fatalf("answers %v", counts)
			}
			if !required {
				if refused != 0 || lost == 0 {
					t.Errorf("refused %d (want 0), lost %d (want > 0)", refused, lost)
				}
				return
			}
			if refused == 0 {
				t.Error("no update was refused while the audit trail's Redis was gone")
			}
			ahead := writtenAhead(t, srv)
			for _, r := range requestLog(t, f.emuURL) {
				if r.Method != http.MethodPatch {
					continue
				}
				parts := strings.Split(r.Traceparent, "-")
				if len(parts) != 4 {
					t.Errorf("PATCH %s (%s) without a traceparent %q", r.Path, r.RequestID, r.Traceparent)
					continue
				}
				if user, ok := ahead[parts[1]]; !ok || "/rest/v1.3/companies/8089/users/"+strconv.FormatInt(user, 10) != r.Path {
					t.Errorf("PATCH %s (%s, status %d, trace %s) was sent without its write-ahead record in Redis", r.Path, r.RequestID, r.Status, parts[1])
				}
			}
		})
	}
}

// writtenAhead reads the Redis Stream of the audit trail: the user of each
// write-ahead record, by trace id.
func writtenAhead(t *testing.T, srv *redistest.Server) map[string]int64 {
	t.Helper()
	c := redis.NewClient(srv.Options())
	defer c.Close()
	msgs, err := c.XRange(context.Background(), "directoryd:audit", "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, m := range msgs {
		var e audit.Event
		line, _ := m.Values["event"].(string)
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if e.Event == audit.KindSending {
			out[e.TraceID] = e.UserID
		}
	}
	if len(out) == 0 {
		t.Fatalf("no write-ahead record in the Redis Stream (%d entries)", len(msgs))
	}
	return out
}

func reason(err error) string {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}
