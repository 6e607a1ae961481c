package main

import (
	"crypto/tls"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestCertificateRotation(t *testing.T) {
	ca := newTestCA(t, "rotation CA")
	dir := t.TempDir()
	cert1, key1 := ca.issue(t, "server-1", "", true)
	certFile, keyFile := writeFile(t, dir, "tls.crt", cert1), writeFile(t, dir, "tls.key", key1)
	caFile := writeFile(t, dir, "ca.crt", ca.pem)
	clock := &fakeClock{now: time.Unix(1_900_000_000, 0)}
	r, err := newCertReloader(certFile, keyFile, caFile, slog.New(slog.NewTextHandler(io.Discard, nil)), clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", r.serverConfig("h2"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { _ = c.(*tls.Conn).Handshake(); c.Close() }()
		}
	}()
	clientCert, clientKey := ca.issue(t, "client", "", false)
	// served returns the CN of the certificate the server presents now.
	served := func() string {
		t.Helper()
		c, err := tls.Dial("tcp", l.Addr().String(), ca.clientTLS(t, clientCert, clientKey))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].Subject.CommonName
	}
	// rotate writes new files with a later modification time.
	mtime := clock.Now()
	rotate := func(cert, key []byte) {
		t.Helper()
		mtime = mtime.Add(time.Minute)
		for name, data := range map[string][]byte{certFile: cert, keyFile: key} {
			if data == nil {
				continue
			}
			if err := os.WriteFile(name, data, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(name, mtime, mtime); err != nil {
				t.Fatal(err)
			}
		}
	}

	if got := served(); got != "server-1" {
		t.Fatalf("serves %q", got)
	}
	cert2, key2 := ca.issue(t, "server-2", "", true)
	rotate(cert2, key2)
	clock.Add(500 * time.Millisecond)
	if got := served(); got != "server-1" {
		t.Errorf("files checked again within a second: serves %q", got)
	}
	clock.Add(500 * time.Millisecond)
	if got := served(); got != "server-2" {
		t.Errorf("after rotation: serves %q, want server-2", got)
	}
	// Half a rotation (new certificate, old key) keeps the working pair...
	cert3, key3 := ca.issue(t, "server-3", "", true)
	rotate(cert3, nil)
	clock.Add(time.Second)
	if got := served(); got != "server-2" {
		t.Errorf("mid-rotation: serves %q, want server-2", got)
	}
	// ...and the key's arrival completes it.
	rotate(nil, key3)
	clock.Add(time.Second)
	if got := served(); got != "server-3" {
		t.Errorf("after the key: serves %q, want server-3", got)
	}
}

func TestCertReloaderStartupErrors(t *testing.T) {
	ca := newTestCA(t, "CA")
	dir := t.TempDir()
	cert, key := ca.issue(t, "s", "", true)
	certFile, keyFile := writeFile(t, dir, "c", cert), writeFile(t, dir, "k", key)
	notPEM := writeFile(t, dir, "ca-broken", []byte("not a certificate"))
	tests := []struct {
		name                string
		cert, key, ca, want string
	}{
		{name: "missing cert", cert: dir + "/nope", key: keyFile, want: "nope"},
		{name: "key of nothing", cert: certFile, key: notPEM, want: "ca-broken"},
		{name: "CA without PEM", cert: certFile, key: keyFile, ca: notPEM, want: "no PEM certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newCertReloader(tt.cert, tt.key, tt.ca, slog.New(slog.DiscardHandler), time.Now)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err %v, want one naming %q", err, tt.want)
			}
		})
	}
}
