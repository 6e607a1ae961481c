package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestRunServesMetricsAndRequestIDs runs directoryd in-process in dev mode
// and checks the operations wiring: a REST call gets an X-Request-Id, and
// /metrics on the HTTP port then shows the gRPC and upstream series.
func TestRunServesMetricsAndRequestIDs(t *testing.T) {
	cfg, err := parseConfig([]string{"--dev", "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"}, env(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, cfg, pw, io.Discard)
		pw.Close()
	}()
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		cancel()
		go func() {
			for range lines { // drain until run closes its output
			}
		}()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	re := regexp.MustCompile(`^directoryd listening: grpc=\S+ http=(\S+)$`)
	var httpAddr string
	timeout := time.After(30 * time.Second)
	for httpAddr == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("run ended before listening")
			}
			if m := re.FindStringSubmatch(l); m != nil {
				httpAddr = m[1]
			}
		case <-timeout:
			t.Fatal("directoryd never listened")
		}
	}
	base := "http://" + httpAddr
	client := &http.Client{Timeout: 30 * time.Second}
	t.Cleanup(client.CloseIdleConnections)

	resp, err := client.Get(base + "/v1/companies/8089/users/1001")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Request-Id") == "" {
		t.Fatalf("status %d, X-Request-Id %q", resp.StatusCode, resp.Header.Get("X-Request-Id"))
	}
	resp, err = client.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`grpc_server_handled_total{grpc_code="OK",grpc_method="GetCompanyUser",grpc_service="procore.directory.v1.DirectoryService",grpc_type="unary"} 1`,
		`directoryd_upstream_requests_total{code="200",method="GET",route="/rest/v1.3/companies/{company_id}/users/{id}"} 1`,
		`directoryd_upstream_circuit_state 0`,
		`go_goroutines `,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
