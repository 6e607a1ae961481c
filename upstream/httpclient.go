package upstream

import (
	"crypto/tls"
	"net"
	"net/http"
	"time"
)

// DefaultMaxResponseHeaderBytes bounds the header of each Procore
// response. Procore's headers are a few KiB (rate limits, request id,
// cookies); Go's own default is 10 MiB, which lets a broken or hostile
// upstream (or anything between) make every request in flight hold
// megabytes (BENCHMARKS.md, "upstream").
const DefaultMaxResponseHeaderBytes = 64 << 10

// HTTPClientOption configures NewHTTPClient.
type HTTPClientOption func(*http.Transport)

// WithMaxResponseHeaderBytes bounds each response's header (default
// DefaultMaxResponseHeaderBytes); a larger header fails the request, as
// a transport error, before it is held in memory. n <= 0 keeps the default.
func WithMaxResponseHeaderBytes(n int64) HTTPClientOption {
	return func(t *http.Transport) {
		if n > 0 {
			t.MaxResponseHeaderBytes = n
		}
	}
}

// NewHTTPClient returns the HTTP client the Procore client uses by default,
// tuned for many concurrent calls to one host: a keep-alive pool large
// enough that bursts reuse connections instead of re-dialing (and paying a
// TLS handshake each), bounded dial, TLS and response-header times and a
// bounded response header size so a stuck or hostile connection fails
// instead of hanging or filling memory, HTTP/2 when the server offers it,
// and no redirects (a redirected PATCH would be replayed elsewhere).
// Overall time limits come from the caller's context, not from here.
func NewHTTPClient(opts ...HTTPClientOption) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		Proxy:                  http.ProxyFromEnvironment,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           256,
		MaxIdleConnsPerHost:    128,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    5 * time.Second,
		ResponseHeaderTimeout:  30 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: DefaultMaxResponseHeaderBytes,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
	}
	for _, o := range opts {
		o(transport)
	}
	return &http.Client{
		Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
