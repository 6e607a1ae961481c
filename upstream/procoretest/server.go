package procoretest

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"
)

// Server is an Emulator listening on a loopback port, like
// httptest.Server; the embedded Emulator exposes all controls.
type Server struct {
	*Emulator
	// URL is the API base, e.g. "http://127.0.0.1:41234".
	URL string
	// TokenURL is URL + "/oauth/token".
	TokenURL string

	srv  *http.Server
	done chan struct{}
}

// NewServer starts an emulator on 127.0.0.1 with a free port and closes it
// when the test ends (tb.Cleanup), like httptest.NewServer but without a
// Close to forget; a bad option or a failed listen fails the test, so tests
// stay one-liners.
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s, err := Start(opts...)
	if err != nil {
		tb.Fatalf("procoretest.NewServer: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

// Start is NewServer for code without a testing.TB (cmd/procore-emulator,
// directoryd --dev): it returns the error instead of failing a test, and the
// caller must Close the server.
func Start(opts ...Option) (*Server, error) {
	e, err := New(opts...)
	if err != nil {
		return nil, fmt.Errorf("procoretest: start: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("procoretest: start: listen: %w", err)
	}
	s := &Server{
		Emulator: e,
		URL:      "http://" + ln.Addr().String(),
		srv:      &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second},
		done:     make(chan struct{}),
	}
	s.TokenURL = s.URL + "/oauth/token"
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.cfg.logger.Error("procoretest server stopped", "err", err)
		}
	}()
	return s, nil
}

// Close stops the server, closing every connection, and waits for it. It
// may be called more than once (an explicit Close before the Cleanup one).
func (s *Server) Close() {
	_ = s.srv.Close()
	<-s.done
}
