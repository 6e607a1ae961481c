package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// certReloader serves the TLS certificate, key and client CA from files and
// re-reads them when they change, so certificates rotate without a
// restart. Each handshake checks the files' modification time and size, at
// most once per second; a change that does not load (say, a new
// certificate beside the old key, mid-rotation) keeps the previous
// material and is retried on the next check.
type certReloader struct {
	certFile, keyFile, caFile string
	log                       *slog.Logger
	now                       func() time.Time

	mu        sync.Mutex
	cert      *tls.Certificate
	clientCAs *x509.CertPool // nil: no client certificate asked for
	stamps    [3]fileStamp
	lastCheck time.Time
}

// fileStamp is what tells a file changed.
type fileStamp struct {
	mod  time.Time
	size int64
}

// newCertReloader loads the files once, failing with a clear error.
// caFile may be empty (no client authentication).
func newCertReloader(certFile, keyFile, caFile string, log *slog.Logger, now func() time.Time) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, caFile: caFile, log: log, now: now}
	stamps, err := r.stat()
	if err != nil {
		return nil, err
	}
	if err := r.load(stamps); err != nil {
		return nil, err
	}
	r.lastCheck = now()
	return r, nil
}

func (r *certReloader) stat() ([3]fileStamp, error) {
	var out [3]fileStamp
	for i, name := range []string{r.certFile, r.keyFile, r.caFile} {
		if name == "" {
			continue
		}
		fi, err := os.Stat(name)
		if err != nil {
			return out, fmt.Errorf("TLS: %w", err)
		}
		out[i] = fileStamp{fi.ModTime(), fi.Size()}
	}
	return out, nil
}

// load reads the files; r.mu is held or r is not shared yet.
func (r *certReloader) load(stamps [3]fileStamp) error {
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("TLS certificate %s / key %s: %w", r.certFile, r.keyFile, err)
	}
	var pool *x509.CertPool
	if r.caFile != "" {
		pem, err := os.ReadFile(r.caFile)
		if err != nil {
			return fmt.Errorf("client CA: %w", err)
		}
		pool = x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("client CA %s: no PEM certificate in it", r.caFile)
		}
	}
	r.cert, r.clientCAs, r.stamps = &cert, pool, stamps
	return nil
}

// current returns the material to use now, reloading it first when the
// files changed and the last check is at least a second old.
func (r *certReloader) current() (*tls.Certificate, *x509.CertPool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := r.now(); now.Sub(r.lastCheck) >= time.Second {
		r.lastCheck = now
		stamps, err := r.stat()
		switch {
		case err != nil:
			r.log.Warn("TLS files unreadable; keeping the loaded certificate", "err", err)
		case stamps != r.stamps:
			if err := r.load(stamps); err != nil {
				r.log.Warn("TLS files changed but do not load; keeping the loaded certificate", "err", err)
			} else {
				r.log.Info("TLS certificate reloaded", "cert", r.certFile, "not_after", r.cert.Leaf.NotAfter)
			}
		}
	}
	return r.cert, r.clientCAs
}

// serverConfig returns a tls.Config for a listener offering nextProtos
// (ALPN). With a client CA, a client certificate that chains to it is
// required: a caller without one is refused during the handshake.
func (r *certReloader) serverConfig(nextProtos ...string) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: nextProtos,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			cert, pool := r.current()
			if cert == nil {
				return nil, errors.New("no TLS certificate loaded")
			}
			cfg := &tls.Config{
				MinVersion:   tls.VersionTLS12,
				NextProtos:   nextProtos,
				Certificates: []tls.Certificate{*cert},
			}
			if pool != nil {
				cfg.ClientAuth = tls.RequireAndVerifyClientCert
				cfg.ClientCAs = pool
			}
			return cfg, nil
		},
	}
}
