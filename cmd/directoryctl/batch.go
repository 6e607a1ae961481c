package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/procore-directory/procore-directory/client"
	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
)

// runBatch is `directoryctl batch`.
func runBatch(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	f, err := parseBatchFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "directoryctl:", err)
		return exitUsage
	}
	req, items, err := readBatch(f, stdin)
	if err != nil {
		fmt.Fprintln(stderr, "directoryctl:", err)
		return exitUsage
	}
	if f.results == "-" || f.validateOnly {
		return submit(ctx, f, req, items, getenv, stdout, stdout, stderr)
	}
	// Opened before anything is sent, so that a bad path costs nothing.
	file, err := os.Create(f.results)
	if err != nil {
		fmt.Fprintln(stderr, "directoryctl: --results:", err)
		return exitUsage
	}
	code := submit(ctx, f, req, items, getenv, file, stdout, stderr)
	if err := file.Close(); err != nil {
		fmt.Fprintln(stderr, "directoryctl: --results:", err)
		return max(code, exitFailed)
	}
	return code
}

// submit sends the batch, follows it, and writes its results to out.
func submit(ctx context.Context, f *batchFlags, req *directoryv1.BatchUpdateCompanyUsersRequest, items []item, getenv func(string) string, out, stdout, stderr io.Writer) int {
	conn, err := dial(f.conn, getenv(tokenEnv))
	if err != nil {
		fmt.Fprintln(stderr, "directoryctl:", err)
		return exitUsage
	}
	defer conn.Close()

	fmt.Fprintf(stderr, "directoryctl: %d updates of company %d, request_id %s\n", len(items), req.GetCompanyId(), req.GetRequestId())
	sub, err := client.SubmitBatch(ctx, directoryv1.NewDirectoryServiceClient(conn), req)
	switch {
	case status.Code(err) == codes.InvalidArgument:
		refusal(stderr, f.file, items, err)
		return exitUsage
	case mayHaveStarted(err):
		st := status.Convert(err)
		fmt.Fprintf(stderr, "directoryctl: submitting failed (%s: %s); the batch may have started: run again with --request-id %s to find out\n",
			codeName(st), st.Message(), req.GetRequestId())
		return exitFailed
	case err != nil:
		refusal(stderr, f.file, items, err)
		return exitFailed
	case f.validateOnly:
		return preview(stdout, stderr, sub, len(items))
	}

	fmt.Fprintf(stderr, "directoryctl: %s (run again with --request-id %s to follow it after an interruption)\n", sub.Operation.GetName(), req.GetRequestId())
	bar := newProgress(stderr, !f.noProgress && isTerminal(stderr))
	op, err := client.WaitBatch(ctx, longrunningpb.NewOperationsClient(conn), sub.Operation, client.WithProgress(bar.update))
	bar.close()
	switch {
	case ctx.Err() != nil:
		fmt.Fprintf(stderr, "directoryctl: interrupted; %s goes on: run again with --request-id %s to follow it, or cancel it with google.longrunning.Operations/CancelOperation\n", op.GetName(), req.GetRequestId())
		return exitInterrupted
	case err != nil:
		fmt.Fprintln(stderr, "directoryctl:", err)
		return exitFailed
	}
	return report(out, stderr, sub.Request, items, op)
}

// mayHaveStarted: after this submission error the server may have
// accepted the batch (the answer was lost, or the call's outcome is
// unknown), unlike a refusal, which starts nothing.
func mayHaveStarted(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled, codes.Unknown, codes.Internal:
		return true
	}
	return false
}

// readBatch reads the file into the request to send.
func readBatch(f *batchFlags, stdin io.Reader) (*directoryv1.BatchUpdateCompanyUsersRequest, []item, error) {
	format, err := formatOf(f.format, f.file)
	if err != nil {
		return nil, nil, err
	}
	r := stdin
	if f.file != "-" {
		file, err := os.Open(f.file)
		if err != nil {
			return nil, nil, err
		}
		defer file.Close()
		r = file
	}
	items, err := readItems(f.file, format, r)
	if err != nil {
		return nil, nil, err
	}
	company, err := companyOf(f.file, f.companyID, items)
	if err != nil {
		return nil, nil, err
	}
	reqs := make([]*directoryv1.UpdateCompanyUserRequest, len(items))
	for i, it := range items {
		reqs[i] = it.req
	}
	req := client.NewBatch(company, reqs)
	if f.requestID != "" {
		req.RequestId = f.requestID
	}
	req.ValidateOnly = f.validateOnly
	return req, items, nil
}

// preview prints a validate_only answer: the Procore requests the batch
// would send, indented, on stdout.
func preview(stdout, stderr io.Writer, sub *client.Submission, n int) int {
	if e := sub.Operation.GetError(); e != nil {
		fmt.Fprintf(stderr, "directoryctl: validation failed: %s\n", status.FromProto(e).Message())
		return exitFailed
	}
	var pretty bytes.Buffer
	if sub.Preview == "" {
		fmt.Fprintln(stderr, "directoryctl: the server returned no preview")
	} else if json.Indent(&pretty, []byte(sub.Preview), "", "  ") == nil {
		fmt.Fprintln(stdout, pretty.String())
	} else {
		fmt.Fprintln(stdout, sub.Preview)
	}
	fmt.Fprintf(stderr, "directoryctl: all %d updates are valid; nothing was sent (--validate-only)\n", n)
	return exitOK
}

// report writes every update's outcome and returns the exit code.
func report(out, stderr io.Writer, req *directoryv1.BatchUpdateCompanyUsersRequest, items []item, op *longrunningpb.Operation) int {
	results, err := client.BatchResults(req, op)
	if err != nil {
		fmt.Fprintln(stderr, "directoryctl:", err)
		return exitFailed
	}
	if err := writeResults(out, items, results); err != nil {
		fmt.Fprintln(stderr, "directoryctl: --results:", err)
		return exitFailed
	}
	failed := 0
	for _, r := range results {
		if r.Status.Code() != codes.OK {
			failed++
		}
	}
	fmt.Fprintf(stderr, "directoryctl: %d updated, %d failed\n", len(results)-failed, failed)
	switch {
	case op.GetError() != nil:
		st := status.FromProto(op.GetError())
		fmt.Fprintf(stderr, "directoryctl: the operation ended %s: %s\n", codeName(st), st.Message())
		return exitFailed
	case failed > 0:
		return exitPartial
	}
	return exitOK
}
