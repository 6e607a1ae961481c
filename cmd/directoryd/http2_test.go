package main

import (
	"crypto/tls"
	"io"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// TestHTTPMaxConcurrentStreams: the REST listener, over TLS, offers HTTP/2
// and announces --http-max-concurrent-streams in its SETTINGS (100 by
// default, not Go's 250), so one connection cannot hold more requests at
// once than the flag allows.
func TestHTTPMaxConcurrentStreams(t *testing.T) {
	tests := []struct {
		name  string
		flags []string
		want  uint32
	}{
		{name: "default", want: 100},
		{name: "flag", flags: []string{"--http-max-concurrent-streams", "7"}, want: 7},
	}
	ca := newTestCA(t, "http2 CA")
	dir := t.TempDir()
	cert, key := ca.issue(t, "directoryd", "", true)
	certFile, keyFile := writeFile(t, dir, "tls.crt", cert), writeFile(t, dir, "tls.key", key)
	emu := newEmulator(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseConfig(append([]string{
				"--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--upstream-url", emu.url,
				"--tls-cert", certFile, "--tls-key", keyFile,
			}, tt.flags...), env(), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			d := startRun(t, cfg)
			tc := ca.clientTLS(t, nil, nil)
			tc.NextProtos = []string{"h2"}
			conn, err := tls.Dial("tcp", d.httpAddr, tc)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if p := conn.ConnectionState().NegotiatedProtocol; p != "h2" {
				t.Fatalf("ALPN chose %q, want h2", p)
			}
			if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
				t.Fatal(err)
			}
			if _, err := io.WriteString(conn, http2.ClientPreface); err != nil {
				t.Fatal(err)
			}
			fr := http2.NewFramer(conn, conn)
			if err := fr.WriteSettings(); err != nil {
				t.Fatal(err)
			}
			f, err := fr.ReadFrame()
			if err != nil {
				t.Fatal(err)
			}
			sf, ok := f.(*http2.SettingsFrame)
			if !ok || sf.IsAck() {
				t.Fatalf("first frame %v, want the server's SETTINGS", f)
			}
			got, ok := sf.Value(http2.SettingMaxConcurrentStreams)
			if !ok || got != tt.want {
				t.Errorf("SETTINGS_MAX_CONCURRENT_STREAMS %d (sent: %v), want %d", got, ok, tt.want)
			}
		})
	}
}
