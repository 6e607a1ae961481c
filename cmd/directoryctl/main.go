// Command directoryctl is DirectoryService's command-line client. Its one
// command, `directoryctl batch FILE`, sends a file of user updates (JSON
// lines or CSV) as one BatchUpdateCompanyUsers operation, shows its
// progress, and writes each update's outcome as a JSON line:
//
//	directoryctl batch --plaintext --company-id 8089 updates.csv > results.jsonl
//
// Exit codes: 0 every update applied, 1 some failed, 2 bad flags or input
// (nothing sent), 3 the operation failed or was cancelled, 130 interrupted
// while waiting (the operation goes on). `directoryctl batch -h` lists the
// flags; docs/api.md has the file formats.
//
// It is a client: it imports the client package and the generated code,
// never the server's packages (service, upstream).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
