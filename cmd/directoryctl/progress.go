package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
)

// progress draws the operation's progress (succeeded + failed of total)
// with progressbar. progressbar draws on whatever writer it is given, a
// file or a pipe alike (it only asks a terminal for its width), so whether
// to draw is decided here: only on a terminal, since carriage returns make
// a log file unreadable.
type progress struct {
	w   io.Writer
	bar *progressbar.ProgressBar // made at the first report with a total
}

// newProgress returns the progress of w, nil (drawing nothing) unless show.
func newProgress(w io.Writer, show bool) *progress {
	if !show {
		return nil
	}
	return &progress{w: w}
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// update draws md.
func (p *progress) update(md *directoryv1.BatchUpdateCompanyUsersMetadata) {
	if p == nil || md.GetTotal() == 0 {
		return
	}
	if p.bar == nil {
		p.bar = progressbar.NewOptions(int(md.GetTotal()),
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription("updating"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(p.w) }))
	}
	if f := md.GetFailed(); f > 0 {
		p.bar.Describe(fmt.Sprintf("updating (%d failed)", f))
	}
	_ = p.bar.Set(int(md.GetSucceeded() + md.GetFailed()))
}

// close ends the bar's line, wherever it stopped.
func (p *progress) close() {
	if p == nil || p.bar == nil || p.bar.IsFinished() {
		return
	}
	_ = p.bar.Exit() // its completion hook ends the line
}
