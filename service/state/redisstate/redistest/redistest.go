// Package redistest starts a real redis-server for tests: its own process,
// listening only on a Unix socket in the test's own temporary directory
// (no TCP port at all), with persistence off unless a test asks for it
// (Durable). It exists so that the
// fleet's shared state is tested against Redis itself, not a fake.
//
// The socket is what keeps parallel test packages apart: a TCP port picked
// by listening and closing can be picked again by another package before
// redis-server binds it, and a test then talks to someone else's Redis. A
// path in the test's own directory cannot be shared.
//
// Without the redis-server binary the test is skipped with a clear message,
// except under CI (CI=true), where it fails. Of this module it imports only
// the test log sink (upstream/procoretest/logsink).
package redistest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/procore-directory/procore-directory/upstream/procoretest/logsink"
)

// maxSocketPath is the longest Unix socket path every supported kernel
// accepts (sun_path is 108 bytes on Linux, 104 on macOS, NUL included).
const maxSocketPath = 103

// startTimeout bounds how long redis-server may take to answer its first
// PING: generous, for a loaded two-core machine.
const startTimeout = 10 * time.Second

// Server is a running redis-server.
type Server struct {
	t      testing.TB
	bin    string
	dir    string
	socket string
	cmd    *exec.Cmd
	exited chan struct{}   // closed when cmd has exited
	out    *logsink.Buffer // redis-server's own log, for a failure message
	// persist are the persistence flags: none, or an append-only file
	// fsync'd before each reply (Durable).
	persist []string
}

// Option configures a Server.
type Option func(*Server)

// Durable makes the server keep what it acknowledged through Kill and
// Restart: an append-only file, fsync'd before each write is answered
// (appendfsync always), as a deployment that must not lose an
// acknowledged write (the audit trail's) runs it.
func Durable() Option {
	return func(s *Server) { s.persist = []string{"--appendonly", "yes", "--appendfsync", "always"} }
}

// Start starts a redis-server, stopped at the test's end.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("redis-server not found (CI installs it: .ci/run): %v", err)
		}
		t.Skip("redis-server not installed (apt-get install redis-server): skipping the shared-state test")
	}
	dir := socketDir(t)
	s := &Server{t: t, bin: bin, dir: dir, socket: filepath.Join(dir, "redis.sock"),
		persist: []string{"--appendonly", "no"}}
	for _, o := range opts {
		o(s)
	}
	s.Restart()
	t.Cleanup(s.Kill)
	return s
}

// socketDir is the test's temporary directory, or, when its path is too
// long for a Unix socket (a long test name under a deep TMPDIR), a
// shorter one of the test's own, removed at its end.
func socketDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if len(filepath.Join(dir, "redis.sock")) <= maxSocketPath {
		return dir
	}
	short, err := os.MkdirTemp("", "redis")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(short) })
	return short
}

// URL is the server's URL, as --redis-url takes it: unix://<socket>?db=0.
func (s *Server) URL() string { return "unix://" + s.socket + "?db=0" }

// Options are go-redis options that dial the server, for a test's own
// client (redis.NewClient(srv.Options())).
func (s *Server) Options() *redis.Options {
	return &redis.Options{Network: "unix", Addr: s.socket}
}

// Socket is the path of the server's Unix socket.
func (s *Server) Socket() string { return s.socket }

// Kill stops the server at once (SIGKILL), as a crash would.
func (s *Server) Kill() {
	if s.cmd != nil {
		_ = s.cmd.Process.Kill()
		<-s.exited
		s.cmd = nil
	}
}

// Restart starts the server (again) on the same socket, empty (Durable:
// with what it had acknowledged), and waits until it answers a PING there.
func (s *Server) Restart() {
	s.t.Helper()
	s.out = &logsink.Buffer{}
	args := append([]string{"--port", "0", "--unixsocket", s.socket, "--unixsocketperm", "700", "--save", "", "--dir", s.dir}, s.persist...)
	s.cmd = exec.Command(s.bin, args...)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.exited = make(chan struct{})
	go func(cmd *exec.Cmd, exited chan struct{}) {
		_ = cmd.Wait()
		close(exited)
	}(s.cmd, s.exited)
	if err := s.waitReady(); err != nil {
		s.Kill()
		s.t.Fatalf("redis-server on %s: %v\n%s", s.socket, err, s.out.String())
	}
}

// waitReady polls PING on the socket until redis-server answers, exits, or
// startTimeout passes. Polling is the only signal a starting redis-server
// gives that does not depend on its log format.
func (s *Server) waitReady() error {
	c := redis.NewClient(&redis.Options{Network: "unix", Addr: s.socket, MaxRetries: -1})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		pctx, pcancel := context.WithTimeout(ctx, time.Second)
		err := c.Ping(pctx).Err()
		pcancel()
		if err == nil {
			return nil
		}
		select {
		case <-s.exited:
			return errors.New("exited before answering PING")
		case <-ctx.Done():
			return err
		case <-tick.C:
		}
	}
}
