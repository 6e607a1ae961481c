package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var debugRE = regexp.MustCompile(`^directoryd debug: (http://\S+/debug/pprof/)$`)

// TestDebugAddr runs directoryd as a process: with --debug-addr, pprof
// answers on that address (and a profile can be fetched); without it, the
// process listens on nothing more than its gRPC and HTTP ports and the dev
// emulator's, and the HTTP port does not serve pprof either.
func TestDebugAddr(t *testing.T) {
	bin := filepath.Join(buildBinaries(t), "directoryd")
	base := []string{"--dev", "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"}

	t.Run("on", func(t *testing.T) {
		p := start(t, bin, append(base, "--debug-addr", "127.0.0.1:0")...)
		url := p.waitLine(t, debugRE)[1]
		httpAddr := p.waitLine(t, listeningRE)[2]
		for path, want := range map[string]string{"": "goroutine", "cmdline": "directoryd", "goroutine?debug=1": "goroutine profile"} {
			if code, body := get(t, url+path); code != http.StatusOK || !strings.Contains(body, want) {
				t.Errorf("GET %s%s: %d, %.80q; want 200 with %q", url, path, code, body, want)
			}
		}
		if n := listeners(t, p.cmd.Process.Pid); n != 4 {
			t.Errorf("%d listening sockets, want 4 (gRPC, HTTP, the dev emulator, debug)", n)
		}
		if code, _ := get(t, "http://"+httpAddr+"/debug/pprof/"); code == http.StatusOK {
			t.Error("the public HTTP port serves pprof")
		}
	})
	t.Run("off by default", func(t *testing.T) {
		p := start(t, bin, base...)
		httpAddr := p.waitLine(t, listeningRE)[2]
		if n := listeners(t, p.cmd.Process.Pid); n != 3 {
			t.Errorf("%d listening sockets, want 3 (gRPC, HTTP, the dev emulator)", n)
		}
		if code, _ := get(t, "http://"+httpAddr+"/debug/pprof/"); code == http.StatusOK {
			t.Error("the public HTTP port serves pprof")
		}
	})
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// listeners counts the TCP sockets in the LISTEN state that process pid
// holds, from /proc (Linux).
func listeners(t *testing.T, pid int) int {
	t.Helper()
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err == nil && strings.HasPrefix(target, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(target, "socket:["), "]")] = true
		}
	}
	n := 0
	for _, table := range []string{"tcp", "tcp6"} {
		f, err := os.Open(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			// sl local rem st tx:rx tr:when retrnsmt uid timeout inode
			cols := strings.Fields(sc.Text())
			if len(cols) > 9 && cols[3] == "0A" && inodes[cols[9]] {
				n++
			}
		}
		f.Close()
	}
	return n
}
