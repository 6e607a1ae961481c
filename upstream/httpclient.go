package upstream

import (
	"crypto/tls"
	"net"
	"net/http"
	"time"
)

// NewHTTPClient returns the HTTP client the Procore client uses by default,
// tuned for many concurrent calls to one host: a keep-alive pool large
// enough that bursts reuse connections instead of re-dialing (and paying a
// TLS handshake each), bounded dial, TLS and response-header times so a
// stuck connection fails instead of hanging, HTTP/2 when the server offers
// it, and no redirects (a redirected PATCH would be replayed elsewhere).
// Overall time limits come from the caller's context, not from here.
func NewHTTPClient() *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   128,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
	}
	return &http.Client{
		Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
