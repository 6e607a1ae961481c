package main

import (
	"context"
	"errors"
	"flag"
	"time"
)

// runFlags are the flags the load subcommands (load, grpc) share: the
// closed loop's shape, its pacing, the processes it samples and the bench
// users it spreads over.
type runFlags struct {
	conc       int
	dur        time.Duration
	maxReq     int64
	pid, upPid int
	phase      string
	perSec     float64
	users      int
}

// addRunFlags registers the shared flags on fs; phase is the default phase
// name.
func addRunFlags(fs *flag.FlagSet, phase string) *runFlags {
	f := &runFlags{}
	fs.IntVar(&f.conc, "c", 16, "concurrent workers (closed loop: each sends its next request when the last one is answered)")
	fs.DurationVar(&f.dur, "d", 30*time.Second, "duration")
	fs.Int64Var(&f.maxReq, "n", 5_000_000, "request count bound")
	fs.IntVar(&f.pid, "pid", 0, "process to sample from /proc (directoryd: CPU per 1,000 calls, RSS); 0: none")
	fs.IntVar(&f.upPid, "upstream-pid", 0, "second process to sample the same way (the emulator); 0: none")
	fs.StringVar(&f.phase, "phase", phase, "phase name in the summary")
	fs.Float64Var(&f.perSec, "rate", 0, "requests per second across all workers (paced with x/time/rate); 0: as fast as the workers go. A bare phase at a facade phase's rate measures the emulator at the same load; two builds compared at one fixed rate pay the same per-wake-up costs")
	fs.IntVar(&f.users, "users", 0, "spread the requests over this many bench users (restload seed), in turn (load: {id} and {email} in -url and -body become each one's id and e-mail); 0: load sends -url and -body as they are, grpc updates user 1001 of the built-in seed")
	return f
}

// check bounds the loop.
func (f *runFlags) check() error {
	if f.conc < 1 || f.dur <= 0 || f.dur > 10*time.Minute {
		return errors.New("want -c >= 1 and 0 < -d <= 10m")
	}
	return nil
}

// measure runs send as the flags say (see measure).
func (f *runFlags) measure(send func(context.Context) error) error {
	return measure(f.phase, f.conc, f.dur, f.maxReq, f.pid, f.upPid, f.perSec, send)
}
