package procoretest

import (
	"errors"
	"fmt"
	"net"
	"net/http"
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

// NewServer starts an emulator on 127.0.0.1 with a free port. Like
// httptest.NewServer it panics on failure, so tests stay one-liners.
func NewServer(opts ...Option) *Server {
	e, err := New(opts...)
	if err != nil {
		panic(fmt.Sprintf("procoretest: NewServer: %v", err))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("procoretest: NewServer: listen: %v", err))
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
	return s
}

// Close stops the server, closing every connection, and waits for it.
func (s *Server) Close() {
	_ = s.srv.Close()
	<-s.done
}
