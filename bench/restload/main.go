// Command restload is the REST half of bench/load.sh: a closed-loop HTTP
// load generator with a fixed number of workers, plus the process sampling
// the script needs for every phase (CPU seconds per 1,000 calls and RSS of
// directoryd from /proc) and a summary of ghz's JSON report in the same
// format.
//
//	restload load    -url URL [-method PATCH] [-body JSON] [-header 'K: V']... -c 16 -d 30s [-users N] [-pid PID]
//	restload grpc    -addr HOST:PORT -token T -c 16 -d 30s [-users N] [-rate R] [-pid PID] [-upstream-pid PID]   (generated stubs)
//	restload seed    -users N   (the emulator's seed plus N bench users, for procore-emulator --seed)
//	restload monitor -pid PID -d 30s -calls-from ghz.json   (runs beside ghz)
//	restload token   -token-url URL -client-id ID -client-secret SECRET
//	restload table   summaries.jsonl   (the phases as a Markdown table)
//
// It only ever sends to loopback addresses, and every loop is bounded by
// both a duration and a request count.
package main

import (
	"golang.org/x/time/rate"

	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "load":
		err = runLoad(os.Args[2:])
	case "monitor":
		err = runMonitor(os.Args[2:])
	case "ghz":
		err = runGhzSummary(os.Args[2:])
	case "grpc":
		err = runGRPC(os.Args[2:])
	case "token":
		err = runToken(os.Args[2:])
	case "table":
		err = runTable(os.Args[2:])
	case "seed":
		err = runSeed(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "restload:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: restload load|grpc|monitor|ghz|token|table|seed [flags] (see -h of each)")
	os.Exit(2)
}

// headerFlags collects repeated -header 'Name: value' flags.
type headerFlags []string

func (h *headerFlags) String() string     { return strings.Join(*h, ", ") }
func (h *headerFlags) Set(v string) error { *h = append(*h, v); return nil }

// checkLoopback refuses any target that is not a loopback address.
func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%s: restload only sends to loopback addresses", raw)
	}
	return nil
}

// Summary is one phase's result, printed as one JSON line.
type Summary struct {
	Phase       string  `json:"phase"`
	Concurrency int     `json:"concurrency"`
	Seconds     float64 `json:"seconds"`
	Requests    int64   `json:"requests"`
	Errors      int64   `json:"errors"`
	RPS         float64 `json:"rps"`
	P50ms       float64 `json:"p50_ms"`
	P95ms       float64 `json:"p95_ms"`
	P99ms       float64 `json:"p99_ms"`
	MaxMs       float64 `json:"max_ms"`
	Proc        *Proc   `json:"process,omitempty"`
	// Upstream is the emulator's process over the same phase.
	Upstream   *Proc  `json:"upstream_process,omitempty"`
	FirstError string `json:"first_error,omitempty"`
}

func (s Summary) print() {
	line, _ := json.Marshal(s)
	fmt.Println(string(line))
}

func runLoad(args []string) error {
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	var (
		target  = fs.String("url", "", "loopback URL to send to")
		method  = fs.String("method", http.MethodPatch, "HTTP method")
		body    = fs.String("body", "", "request body")
		headers headerFlags
	)
	fs.Var(&headers, "header", "request header 'Name: value' (repeatable)")
	run := addRunFlags(fs, "rest")
	_ = fs.Parse(args)
	if err := checkLoopback(*target); err != nil {
		return err
	}
	if err := run.check(); err != nil {
		return err
	}
	h := http.Header{}
	for _, kv := range headers {
		k, v, ok := strings.Cut(kv, ":")
		if !ok {
			return fmt.Errorf("-header %q: want 'Name: value'", kv)
		}
		h.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	client := &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        run.conc * 2,
			MaxIdleConnsPerHost: run.conc * 2,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
	defer client.CloseIdleConnections()
	// Each user's URL and body, expanded once.
	targets, bodies := []string{*target}, []string{*body}
	pick := func() int { return 0 }
	if run.users > 0 {
		cycle, err := newUserCycle(run.users)
		if err != nil {
			return err
		}
		targets, bodies = targets[:0], bodies[:0]
		for i := range int64(run.users) {
			targets = append(targets, expand(*target, firstBenchUser+i))
			bodies = append(bodies, expand(*body, firstBenchUser+i))
		}
		pick = func() int { return int(cycle.id() - firstBenchUser) }
	}
	send := func(ctx context.Context) error {
		i := pick()
		req, err := http.NewRequestWithContext(ctx, *method, targets[i], strings.NewReader(bodies[i]))
		if err != nil {
			return err
		}
		req.Header = h.Clone()
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return err
	}
	// Warm the connections (not measured).
	for range run.conc {
		if err := send(context.Background()); err != nil {
			return fmt.Errorf("warm-up request: %w", err)
		}
	}

	return run.measure(send)
}

// measure runs send in a closed loop with conc workers for dur (at most
// maxReq calls, and at most perSec a second when perSec > 0), sampling pid
// (directoryd) and upPid (the emulator) when set, and prints the phase's
// summary.
func measure(phase string, conc int, dur time.Duration, maxReq int64, pid, upPid int, perSec float64, send func(context.Context) error) error {
	var mon, upMon *monitor
	var err error
	if pid > 0 {
		if mon, err = startMonitor(pid, dur); err != nil {
			return err
		}
	}
	if upPid > 0 {
		if upMon, err = startMonitor(upPid, dur); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	var (
		sent     atomic.Int64
		errs     atomic.Int64
		firstErr atomic.Value
		wg       sync.WaitGroup
		lats     = make([][]time.Duration, conc)
	)
	pace := rate.NewLimiter(rate.Inf, 1)
	if perSec > 0 {
		pace = rate.NewLimiter(rate.Limit(perSec), 1)
	}
	start := time.Now()
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && sent.Add(1) <= maxReq {
				if pace.Wait(ctx) != nil {
					break // the run ended while waiting for a slot
				}
				t := time.Now()
				// Not ctx: a call in flight at the end finishes and is
				// counted. Cut off, a gRPC call carries the run's end
				// as its deadline, and the server's copy of it fails
				// the last calls early, which would look like errors.
				err := send(context.Background())
				lats[w] = append(lats[w], time.Since(t))
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	s := summarize(phase, conc, elapsed, all, errs.Load())
	if v, ok := firstErr.Load().(string); ok {
		s.FirstError = v
	}
	if mon != nil {
		p := mon.stop(int64(len(all)))
		s.Proc = &p
	}
	if upMon != nil {
		p := upMon.stop(int64(len(all)))
		s.Upstream = &p
	}
	s.print()
	return nil
}

func summarize(phase string, conc int, elapsed time.Duration, lats []time.Duration, errs int64) Summary {
	slices.Sort(lats)
	q := func(p float64) float64 {
		if len(lats) == 0 {
			return 0
		}
		i := int(p*float64(len(lats))+0.5) - 1
		i = min(max(i, 0), len(lats)-1)
		return float64(lats[i].Microseconds()) / 1000
	}
	return Summary{
		Phase: phase, Concurrency: conc, Seconds: elapsed.Seconds(),
		Requests: int64(len(lats)), Errors: errs, RPS: float64(len(lats)) / elapsed.Seconds(),
		P50ms: q(0.50), P95ms: q(0.95), P99ms: q(0.99), MaxMs: q(1),
	}
}

// Proc is what /proc says about the process under load during a phase.
type Proc struct {
	PID int `json:"pid"`
	// CPUSeconds is utime+stime over the phase.
	CPUSeconds float64 `json:"cpu_seconds"`
	// CPUSecondsPer1000 is CPUSeconds per 1,000 calls answered.
	CPUSecondsPer1000 float64 `json:"cpu_seconds_per_1000_calls"`
	// RSS at the start and the end of the phase (mean of the 1 s samples
	// of the first and the last 10 s), and the peak (VmHWM) so far.
	RSSFirst10sMiB float64 `json:"rss_first_10s_mib"`
	RSSLast10sMiB  float64 `json:"rss_last_10s_mib"`
	PeakRSSMiB     float64 `json:"peak_rss_vmhwm_mib"`
}

// monitor samples a process's CPU and RSS once a second.
type monitor struct {
	pid      int
	cpu0     float64
	samples  []float64 // RSS, MiB, one a second
	stopc    chan struct{}
	finished chan struct{}
	mu       sync.Mutex
}

func startMonitor(pid int, d time.Duration) (*monitor, error) {
	cpu, err := procCPU(pid)
	if err != nil {
		return nil, err
	}
	m := &monitor{pid: pid, cpu0: cpu, stopc: make(chan struct{}), finished: make(chan struct{})}
	go func() {
		defer close(m.finished)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		deadline := time.After(d + 5*time.Second) // bounded even if never stopped
		for {
			select {
			case <-t.C:
				if rss, err := procStatus(pid, "VmRSS"); err == nil {
					m.mu.Lock()
					m.samples = append(m.samples, rss)
					m.mu.Unlock()
				}
			case <-m.stopc:
				return
			case <-deadline:
				return
			}
		}
	}()
	return m, nil
}

func (m *monitor) stop(calls int64) Proc {
	cpu, _ := procCPU(m.pid)
	close(m.stopc)
	<-m.finished
	p := Proc{PID: m.pid, CPUSeconds: cpu - m.cpu0}
	if calls > 0 {
		p.CPUSecondsPer1000 = p.CPUSeconds / float64(calls) * 1000
	}
	mean := func(xs []float64) float64 {
		if len(xs) == 0 {
			return 0
		}
		var s float64
		for _, x := range xs {
			s += x
		}
		return s / float64(len(xs))
	}
	n := min(10, len(m.samples))
	p.RSSFirst10sMiB = mean(m.samples[:n])
	p.RSSLast10sMiB = mean(m.samples[len(m.samples)-n:])
	p.PeakRSSMiB, _ = procStatus(m.pid, "VmHWM")
	return p
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// procCPU returns utime+stime of pid in seconds.
func procCPU(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces and parentheses: fields start after
	// the last ')'. utime and stime are fields 14 and 15 (1-based).
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc/PID/stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("unexpected /proc/PID/stat")
	}
	ut, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return (ut + st) / clockTicks, nil
}

// procStatus returns a kB field of /proc/PID/status in MiB.
func procStatus(pid int, field string) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// runMonitor samples pid for -d (or until stdin closes, whichever is
// first), then reads the ghz JSON report to know the number of calls, and
// prints the ghz phase's summary with the process figures.
func runMonitor(args []string) error {
	fs := flag.NewFlagSet("monitor", flag.ExitOnError)
	pid := fs.Int("pid", 0, "process to sample")
	upPid := fs.Int("upstream-pid", 0, "second process to sample (the emulator); 0: none")
	dur := fs.Duration("d", 30*time.Second, "how long to sample")
	report := fs.String("ghz-report", "", "ghz -O json report, read when sampling ends")
	phase := fs.String("phase", "grpc", "phase name")
	conc := fs.Int("c", 0, "ghz concurrency, for the summary")
	ready := fs.String("ready-file", "", "file created once the first sample is taken")
	_ = fs.Parse(args)
	if *pid <= 0 || *dur <= 0 || *dur > 10*time.Minute {
		return errors.New("want -pid and 0 < -d <= 10m")
	}
	m, err := startMonitor(*pid, *dur)
	if err != nil {
		return err
	}
	var up *monitor
	if *upPid > 0 {
		if up, err = startMonitor(*upPid, *dur); err != nil {
			return err
		}
	}
	if *ready != "" {
		_ = os.WriteFile(*ready, nil, 0o600)
	}
	// Sample until the report appears (ghz writes it when it finishes) or
	// the bound passes.
	deadline := time.Now().Add(*dur + 30*time.Second)
	for time.Now().Before(deadline) {
		if st, err := os.Stat(*report); err == nil && st.Size() > 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	var s Summary
	for range 50 { // ghz may still be writing the report
		if s, err = ghzSummary(*report, *phase, *conc); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		m.stop(0)
		return err
	}
	p := m.stop(s.Requests)
	s.Proc = &p
	if up != nil {
		u := up.stop(s.Requests)
		s.Upstream = &u
	}
	s.print()
	return nil
}

// ghzReport is the part of ghz's JSON report the summary needs (durations
// in nanoseconds).
type ghzReport struct {
	Count     int64   `json:"count"`
	Total     int64   `json:"total"`
	Rps       float64 `json:"rps"`
	Slowest   int64   `json:"slowest"`
	Latencies []struct {
		Percentage int   `json:"percentage"`
		Latency    int64 `json:"latency"`
	} `json:"latencyDistribution"`
	StatusCodes map[string]int64 `json:"statusCodeDistribution"`
	ErrorDist   map[string]int64 `json:"errorDistribution"`
}

func ghzSummary(path, phase string, conc int) (Summary, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Summary{}, err
	}
	var r ghzReport
	if err := json.Unmarshal(b, &r); err != nil {
		return Summary{}, fmt.Errorf("ghz report: %w", err)
	}
	s := Summary{Phase: phase, Concurrency: conc, Seconds: float64(r.Total) / 1e9, RPS: r.Rps, MaxMs: float64(r.Slowest) / 1e6}
	for code, n := range r.StatusCodes {
		if code == "OK" {
			s.Requests += n
		} else {
			s.Errors += n
			s.Requests += n
			if s.FirstError == "" {
				s.FirstError = code
			}
		}
	}
	for e := range r.ErrorDist {
		if s.FirstError == "" || s.FirstError == "Unavailable" {
			s.FirstError = e
		}
	}
	for _, l := range r.Latencies {
		switch l.Percentage {
		case 50:
			s.P50ms = float64(l.Latency) / 1e6
		case 95:
			s.P95ms = float64(l.Latency) / 1e6
		case 99:
			s.P99ms = float64(l.Latency) / 1e6
		}
	}
	return s, nil
}

func runGhzSummary(args []string) error {
	fs := flag.NewFlagSet("ghz", flag.ExitOnError)
	report := fs.String("report", "", "ghz -O json report")
	_ = fs.Parse(args)
	s, err := ghzSummary(*report, "grpc", 0)
	if err != nil {
		return err
	}
	s.print()
	return nil
}

// runToken fetches a client-credentials access token from a loopback
// token URL (the dev emulator's) and prints it.
func runToken(args []string) error {
	fs := flag.NewFlagSet("token", flag.ExitOnError)
	tokenURL := fs.String("token-url", "", "OAuth token URL (loopback)")
	id := fs.String("client-id", "", "client id")
	secret := fs.String("client-secret", "", "client secret")
	_ = fs.Parse(args)
	if err := checkLoopback(*tokenURL); err != nil {
		return err
	}
	resp, err := http.PostForm(*tokenURL, url.Values{"grant_type": {"client_credentials"}, "client_id": {*id}, "client_secret": {*secret}})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		return fmt.Errorf("token: status %d, %v", resp.StatusCode, err)
	}
	fmt.Println(tok.AccessToken)
	return nil
}

// runTable prints the phases' summaries (JSON lines) as a Markdown table,
// with directoryd's CPU per call as a ratio to the emulator's CPU per PATCH
// (issue #15's targets: gRPC <= 2.0x, REST /v1 <= 2.5x) against three
// measures of the latter, because a process's CPU per request depends on
// how its requests arrive (fewer wake-ups per request when they come in
// bursts):
//   - same phase: the emulator's own CPU per PATCH in that phase. Every
//     facade call is one PATCH with the bare phase's bytes, at the same
//     rate, in the same arrival pattern and the same seconds: the
//     like-for-like floor, and the headline;
//   - bare flat out: phase "bare", PATCHes as fast as 16 callers go (the
//     emulator at its most efficient, so the harshest ratio);
//   - bare paced: phase "bare@X", PATCHes paced evenly at phase X's rate
//     (one request at a time: the emulator at its least efficient).
func runTable(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: restload table FILE")
	}
	b, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	var rows []Summary
	for line := range strings.SplitSeq(strings.TrimSpace(string(b)), "\n") {
		var s Summary
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			return fmt.Errorf("%q: %w", line, err)
		}
		rows = append(rows, s)
	}
	// The floor: the emulator's CPU per bare PATCH, from the bare phase
	// (its process then does nothing else), flat out; and from the phase
	// "bare@X", paced at phase X's rate: a process's CPU per request
	// depends on its load (fewer wake-ups per request when busier), so the
	// like-for-like floor of phase X is the emulator at X's rate.
	bare := map[string]float64{}
	for _, r := range rows {
		if name, ok := strings.CutPrefix(r.Phase, "bare"); ok && r.Upstream != nil {
			bare[strings.TrimPrefix(name, "@")] = r.Upstream.CPUSecondsPer1000
		}
	}
	ratio := func(cpu, floor float64) string {
		if floor <= 0 || cpu <= 0 {
			return ""
		}
		return fmt.Sprintf("%.2fx", cpu/floor)
	}
	fmt.Println("| phase | conc | calls | errors | calls/s | p50 ms | p95 ms | p99 ms | max ms | facade CPU µs/call (directoryd; floord in the floor phase) | emulator CPU µs/PATCH | facade ÷ emulator, same phase | ÷ bare PATCH flat out | ÷ bare PATCH paced at the phase's rate | facade RSS first 10 s MiB | RSS last 10 s MiB | peak RSS (VmHWM) MiB |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		p, u := r.Proc, r.Upstream
		if p == nil {
			p = &Proc{}
		}
		if u == nil {
			u = &Proc{}
		}
		same, flat, paced := "", "", ""
		if !strings.HasPrefix(r.Phase, "bare") {
			same = ratio(p.CPUSecondsPer1000, u.CPUSecondsPer1000)
			flat, paced = ratio(p.CPUSecondsPer1000, bare[""]), ratio(p.CPUSecondsPer1000, bare[r.Phase])
		}
		fmt.Printf("| %s | %d | %d | %d | %.0f | %.2f | %.2f | %.2f | %.1f | %.0f | %.0f | %s | %s | %s | %.1f | %.1f | %.1f |\n",
			r.Phase, r.Concurrency, r.Requests, r.Errors, r.RPS, r.P50ms, r.P95ms, r.P99ms, r.MaxMs,
			p.CPUSecondsPer1000*1000, u.CPUSecondsPer1000*1000, same, flat, paced, p.RSSFirst10sMiB, p.RSSLast10sMiB, p.PeakRSSMiB)
	}
	return nil
}
