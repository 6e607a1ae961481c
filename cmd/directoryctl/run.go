package main

import (
	"context"
	"fmt"
	"io"
)

// Exit codes.
const (
	exitOK          = 0   // every update applied (or, --validate-only, valid)
	exitPartial     = 1   // the operation finished, some updates failed
	exitUsage       = 2   // bad flags or input, or the server refused the input; nothing sent
	exitFailed      = 3   // the operation failed or was cancelled, or the server could not be used
	exitInterrupted = 130 // interrupted while waiting: the operation goes on
)

const usage = `usage: directoryctl batch [flags] FILE

Sends the updates in FILE (JSON lines of UpdateCompanyUserRequest, or CSV
with an id column) as one BatchUpdateCompanyUsers operation, waits for it
and writes each update's outcome as JSON lines. Run
'directoryctl batch -h' for the flags.
`

// run is the command: main without the process around it, so that tests
// call it. It returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "batch":
		return runBatch(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "directoryctl: unknown command %q\n%s", args[0], usage)
	return exitUsage
}
