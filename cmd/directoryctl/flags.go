package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/google/uuid"
)

// batchFlags are `directoryctl batch`'s flags and argument.
type batchFlags struct {
	conn         connFlags
	companyID    int64
	format       string
	results      string
	requestID    string
	validateOnly bool
	noProgress   bool
	file         string
}

// parseBatchFlags reads the flags, before or after FILE. The error is
// flag.ErrHelp for -h.
func parseBatchFlags(args []string, stderr io.Writer) (*batchFlags, error) {
	f := &batchFlags{}
	fs := flag.NewFlagSet("directoryctl batch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: directoryctl batch [flags] FILE   (FILE - reads standard input; give --format)\n\nflags:\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&f.conn.addr, "addr", "127.0.0.1:9090", "directoryd's gRPC address (a gRPC target)")
	fs.BoolVar(&f.conn.plaintext, "plaintext", false, "no TLS, as grpcurl -plaintext: for directoryd --dev on loopback")
	fs.StringVar(&f.conn.cacert, "cacert", "", "PEM file of the CA that signed directoryd's certificate (default: the system's roots)")
	fs.StringVar(&f.conn.cert, "cert", "", "PEM client certificate, for mutual TLS (with --key)")
	fs.StringVar(&f.conn.key, "key", "", "PEM private key of --cert")
	fs.StringVar(&f.conn.servername, "servername", "", "the name to verify directoryd's certificate against (default: the host of --addr)")
	fs.Int64Var(&f.companyID, "company-id", 0, "the Procore company; required unless every update carries its company_id")
	fs.StringVar(&f.format, "format", "", "jsonl or csv (default: from FILE's extension, .jsonl/.ndjson or .csv)")
	fs.StringVar(&f.results, "results", "-", "where each update's outcome goes, as JSON lines (- is standard output); created before the batch is sent, not with --validate-only")
	fs.StringVar(&f.requestID, "request-id", "", "the batch's request_id, a UUID (default: a new one, printed): run again with the same one to get the same operation instead of a new batch")
	fs.BoolVar(&f.validateOnly, "validate-only", false, "check every update and print the Procore requests the batch would send; nothing is sent")
	fs.BoolVar(&f.noProgress, "no-progress", false, "no progress bar (it is drawn only when standard error is a terminal)")
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
	switch {
	case len(rest) != 1:
		fs.Usage()
		return nil, errors.New("want exactly one FILE")
	case f.companyID < 0:
		return nil, errors.New("--company-id must be positive")
	}
	if f.requestID != "" {
		if _, err := uuid.Parse(f.requestID); err != nil || len(f.requestID) != 36 {
			return nil, fmt.Errorf("--request-id %q: want a UUID such as %s", f.requestID, uuid.NewString())
		}
	}
	f.file = rest[0]
	return f, f.conn.validate()
}
