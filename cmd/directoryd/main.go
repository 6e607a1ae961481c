// Command directoryd serves procore.directory.v1.DirectoryService over gRPC
// and, through grpc-gateway, over REST, in front of Procore's directory API.
//
//	directoryd --upstream-url https://api.procore.com
//	directoryd --dev    # against the built-in Procore emulator, on loopback
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	cfg, err := parseConfig(os.Args[1:], os.Getenv, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "directoryd:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "directoryd:", err)
		os.Exit(1)
	}
}
