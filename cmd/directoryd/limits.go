package main

import (
	"errors"
	"flag"
	"time"

	"google.golang.org/grpc"

	"github.com/procore-directory/procore-directory/service"
)

// LimitsConfig bounds what one caller, or many at once, can make
// directoryd hold: message and header sizes, call duration, and upstream
// concurrency.
type LimitsConfig struct {
	MaxRecvMsgSize        int
	MaxHeaderListSize     int
	MaxHeaderBytes        int
	CallTimeout           time.Duration
	MaxConcurrentUpstream int
	UpstreamQueueTimeout  time.Duration
}

// register adds the limit flags (each also DIRECTORYD_<FLAG>).
func (l *LimitsConfig) register(fs *flag.FlagSet) {
	fs.IntVar(&l.MaxRecvMsgSize, "max-recv-msg-size", service.DefaultMaxRecvMsgSize, "largest gRPC request in bytes (a 10 MiB avatar plus headroom)")
	fs.IntVar(&l.MaxHeaderListSize, "max-header-list-size", service.DefaultMaxHeaderListSize, "largest gRPC metadata (header list) in bytes")
	fs.IntVar(&l.MaxHeaderBytes, "max-header-bytes", service.DefaultMaxHeaderBytes, "largest HTTP request header in bytes")
	fs.DurationVar(&l.CallTimeout, "call-timeout", service.DefaultCallTimeout, "longest a call may run; a caller's longer (or missing) deadline is capped to it")
	fs.IntVar(&l.MaxConcurrentUpstream, "max-concurrent-upstream", service.DefaultMaxConcurrentUpstream, "Procore requests in flight at once; 0: unlimited")
	fs.DurationVar(&l.UpstreamQueueTimeout, "upstream-queue-timeout", service.DefaultUpstreamQueueTimeout, "longest a call waits for a free upstream slot before UNAVAILABLE (OVERLOADED, with RetryInfo)")
}

func (l *LimitsConfig) validate() error {
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

// upstream caps concurrent Procore requests.
func (l *LimitsConfig) upstream(up service.Upstream) service.Upstream {
	return service.LimitUpstream(up, l.MaxConcurrentUpstream, l.UpstreamQueueTimeout)
}

// serverOptions apply the size limits and the call time-out.
func (l *LimitsConfig) serverOptions() []service.ServerOption {
	return []service.ServerOption{
		service.WithGRPCOptions(grpc.MaxRecvMsgSize(l.MaxRecvMsgSize), grpc.MaxHeaderListSize(uint32(l.MaxHeaderListSize))),
		service.WithUnaryInterceptors(service.CallTimeout(l.CallTimeout)),
	}
}
