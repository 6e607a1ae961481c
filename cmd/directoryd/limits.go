package main

import (
	"errors"
	"flag"

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
	}
	return nil
}
