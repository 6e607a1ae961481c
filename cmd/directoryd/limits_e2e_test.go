package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// TestSlowBodyCutOff runs the real binary with a short --http-read-timeout
// and trickles request bodies a byte at a time on many connections: each
// connection must be closed within the deadline (plus slack), not held
// for as long as the caller keeps trickling.
func TestSlowBodyCutOff(t *testing.T) {
	t.Parallel()
	bin := buildBinaries(t)
	const deadline = time.Second
	d := start(t, filepath.Join(bin, "directoryd"), "--dev", "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0",
		"--http-read-header-timeout", "500ms", "--http-read-timeout", deadline.String())
	httpAddr := d.waitLine(t, listeningRE)[2]

	const conns = 50
	held := make([]time.Duration, conns)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			held[i] = trickleBody(t, httpAddr)
		}()
	}
	wg.Wait()
	for i, h := range held {
		if h < deadline-100*time.Millisecond || h > deadline+5*time.Second { // wide: a loaded CI machine; unbounded it was > 75 s
			t.Errorf("connection %d held %v, want closed about %v after the request started", i, h, deadline)
		}
	}
}

// trickleBody sends a PATCH whose 10,000-byte body comes one byte every
// 50 ms, and returns how long the server kept the connection open.
func trickleBody(t *testing.T, addr string) time.Duration {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Error(err)
		return 0
	}
	defer c.Close()
	begin := time.Now()
	_, err = fmt.Fprintf(c, "PATCH /v1/companies/8089/users/1001 HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n{", addr)
	if err != nil {
		t.Error(err)
		return 0
	}
	closed := make(chan struct{})
	go func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-closed:
				return
			case <-tick.C:
				if _, err := c.Write([]byte(" ")); err != nil {
					return
				}
			}
		}
	}()
	defer close(closed)
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second)) // a safety net only: the test fails long before
	_, _ = io.Copy(io.Discard, c)                           // until the server closes the connection
	return time.Since(begin)
}

// TestWatchStreamsCapped opens 20,000 Health/Watch streams on one
// connection of the real binary (allowed that many streams per connection,
// to reach the process-wide cap): the first --max-watch-streams are served
// and stay open, every other is refused with RESOURCE_EXHAUSTED. Then it
// opens 20,000 more, all refused, and the process's peak RSS must not grow
// with them: memory is bounded by the cap, not by what callers attempt
// (20,000 streams held used to add ~160 MB).
func TestWatchStreamsCapped(t *testing.T) {
	t.Parallel()
	bin := buildBinaries(t)
	const (
		streams = 20000
		limit   = 100
	)
	d := start(t, filepath.Join(bin, "directoryd"), "--dev", "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0",
		"--grpc-max-concurrent-streams", strconv.Itoa(2*streams), "--max-watch-streams", strconv.Itoa(limit))
	grpcAddr := d.waitLine(t, listeningRE)[1]
	pid := d.cmd.Process.Pid

	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	health := healthpb.NewHealthClient(conn)

	before := procStatusKiB(t, pid, "VmRSS")
	for phase, wantServed := range []int64{limit, 0} {
		served, refused, other := watchBurst(ctx, health, streams)
		peak := procStatusKiB(t, pid, "VmHWM")
		t.Logf("phase %d: %d streams: %d served, %d refused, %v; RSS %d MiB before, peak %d MiB",
			phase+1, streams, served, refused, other, before>>10, peak>>10)
		if served != wantServed || refused != streams-wantServed {
			t.Errorf("phase %d: served %d, refused %d (other: %v), want %d and %d", phase+1, served, refused, other, wantServed, streams-wantServed)
		}
		switch growth := peak - before; {
		case phase == 0 && growth > 128<<10:
			t.Errorf("peak RSS grew by %d MiB (from %d MiB), want under 128 MiB", growth>>10, before>>10)
		case phase == 1 && growth > 32<<10:
			t.Errorf("20,000 more refused streams grew peak RSS by %d MiB, want under 32 MiB", growth>>10)
		}
		before = peak
	}
}

// watchBurst opens n Watch streams, at most 1,000 being opened at once (as
// over ten connections at the default --grpc-max-concurrent-streams), and
// counts those served (left open until ctx ends) and refused by the cap;
// other is the first other failure.
func watchBurst(ctx context.Context, health healthpb.HealthClient, n int) (served, refused int64, other error) {
	var servedN, refusedN atomic.Int64
	var mu sync.Mutex
	sem := make(chan struct{}, 1000)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			stream, err := health.Watch(ctx, &healthpb.HealthCheckRequest{})
			if err == nil {
				_, err = stream.Recv()
			}
			switch {
			case err == nil:
				servedN.Add(1)
			case status.Code(err) == codes.ResourceExhausted && strings.Contains(err.Error(), "too many"):
				refusedN.Add(1)
			default:
				mu.Lock()
				if other == nil {
					other = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return servedN.Load(), refusedN.Load(), other
}

// procStatusKiB reads one "Vm...: N kB" line of /proc/<pid>/status.
func procStatusKiB(t *testing.T, pid int, key string) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("no /proc: cannot read the process's RSS")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/status", key, pid)
	return 0
}
