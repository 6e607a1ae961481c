package main

import (
	"errors"
	"flag"
	"strconv"

	"github.com/procore-directory/procore-directory/service/server"
)

// registerLimits adds the limit flags (each also DIRECTORYD_<FLAG>): what
// one caller, or many at once, can make directoryd hold.
func registerLimits(fs *flag.FlagSet, l *server.Limits) {
	fs.IntVar(&l.MaxRecvMsgSize, "max-recv-msg-size", server.DefaultMaxRecvMsgSize, "largest gRPC request in bytes (a 10 MiB avatar plus headroom)")
	fs.IntVar(&l.MaxHeaderListSize, "max-header-list-size", server.DefaultMaxHeaderListSize, "largest gRPC metadata (header list) in bytes")
	fs.IntVar(&l.MaxHeaderBytes, "max-header-bytes", server.DefaultMaxHeaderBytes, "largest HTTP request header in bytes")
	fs.DurationVar(&l.CallTimeout, "call-timeout", server.DefaultCallTimeout, "longest a call may run; a caller's longer (or missing) deadline is capped to it")
	fs.IntVar(&l.MaxConcurrentUpstream, "max-concurrent-upstream", server.DefaultMaxConcurrentUpstream, "Procore requests in flight at once; 0: unlimited")
	fs.DurationVar(&l.UpstreamQueueTimeout, "upstream-queue-timeout", server.DefaultUpstreamQueueTimeout, "longest a call waits for a free upstream slot before UNAVAILABLE (OVERLOADED, with RetryInfo)")

	fs.DurationVar(&l.HTTPReadHeaderTimeout, "http-read-header-timeout", server.DefaultHTTPReadHeaderTimeout, "longest an HTTP request header may take to arrive")
	fs.DurationVar(&l.HTTPReadTimeout, "http-read-timeout", server.DefaultHTTPReadTimeout, "longest a whole HTTP request, header and body, may take to arrive; a slower one is cut off")
	fs.DurationVar(&l.HTTPIdleTimeout, "http-idle-timeout", server.DefaultHTTPIdleTimeout, "longest an HTTP keep-alive connection waits for its next request")
	streams := func(name, usage string, v *uint32, def uint32) {
		*v = def
		fs.Func(name, usage+" (default "+strconv.FormatUint(uint64(def), 10)+")", func(s string) error {
			n, err := strconv.ParseUint(s, 10, 32)
			if err == nil && n == 0 {
				err = errors.New("must be positive")
			}
			*v = uint32(n)
			return err
		})
	}
	streams("http-max-concurrent-streams", "HTTP/2 requests open at once on one connection to the REST listener (HTTP/2 is offered over TLS)",
		&l.HTTPMaxConcurrentStreams, server.DefaultHTTPMaxConcurrentStreams)
	streams("grpc-max-concurrent-streams", "gRPC streams (calls) open at once on one connection",
		&l.GRPCMaxConcurrentStreams, server.DefaultGRPCMaxConcurrentStreams)
	fs.DurationVar(&l.GRPCKeepaliveMinTime, "grpc-keepalive-min-time", server.DefaultGRPCKeepaliveMinTime, "shortest interval between a client's keepalive pings; more often: GOAWAY (ENHANCE_YOUR_CALM)")
	fs.BoolVar(&l.GRPCKeepalivePermitWithoutStream, "grpc-keepalive-permit-without-stream", false, "allow keepalive pings on a connection with no call open")
	fs.DurationVar(&l.GRPCMaxConnectionIdle, "grpc-max-connection-idle", server.DefaultGRPCMaxConnectionIdle, "a gRPC connection with no call for this long is closed (GOAWAY)")
	fs.IntVar(&l.MaxWatchStreams, "max-watch-streams", server.DefaultMaxWatchStreams, "Health/Watch streams open at once over all connections; more: RESOURCE_EXHAUSTED (TOO_MANY_STREAMS)")
	fs.Int64Var(&l.UpstreamMaxResponseHeaderBytes, "upstream-max-response-header-bytes", server.DefaultUpstreamMaxResponseHeaderBytes, "largest Procore response header in bytes")
}

// validateLimits checks the limit flags.
func validateLimits(l server.Limits) error {
	switch {
	case l.MaxRecvMsgSize < 1<<20:
		return errors.New("--max-recv-msg-size must be at least 1 MiB")
	case l.MaxHeaderListSize < 8<<10 || l.MaxHeaderListSize > 1<<30:
		return errors.New("--max-header-list-size must be between 8 KiB and 1 GiB")
	case l.MaxHeaderBytes < 8<<10:
		return errors.New("--max-header-bytes must be at least 8 KiB")
	case l.CallTimeout <= 0:
		return errors.New("--call-timeout must be positive")
	case l.MaxConcurrentUpstream < 0:
		return errors.New("--max-concurrent-upstream must not be negative")
	case l.UpstreamQueueTimeout <= 0:
		return errors.New("--upstream-queue-timeout must be positive")
	case l.HTTPReadHeaderTimeout <= 0:
		return errors.New("--http-read-header-timeout must be positive")
	case l.HTTPReadTimeout < l.HTTPReadHeaderTimeout:
		return errors.New("--http-read-timeout must be at least --http-read-header-timeout (it covers the header too)")
	case l.HTTPIdleTimeout <= 0:
		return errors.New("--http-idle-timeout must be positive")
	case l.GRPCMaxConcurrentStreams == 0:
		return errors.New("--grpc-max-concurrent-streams must be positive")
	case l.GRPCKeepaliveMinTime <= 0:
		return errors.New("--grpc-keepalive-min-time must be positive")
	case l.GRPCMaxConnectionIdle <= 0:
		return errors.New("--grpc-max-connection-idle must be positive")
	case l.MaxWatchStreams <= 0:
		return errors.New("--max-watch-streams must be positive")
	case l.UpstreamMaxResponseHeaderBytes < 4<<10:
		return errors.New("--upstream-max-response-header-bytes must be at least 4 KiB")
	}
	return nil
}
