package client

import (
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"
)

// Details returns the google.rpc.ErrorInfo and google.rpc.RetryInfo of an
// error from DirectoryService, each nil when absent. Every error the
// service answers carries an ErrorInfo (domain "procore-directory"): its
// Reason says what happened (README, "Errors"), more precisely than the
// code; RetryInfo, when present, says how long to wait before retrying.
func Details(err error) (*errdetails.ErrorInfo, *errdetails.RetryInfo) {
	st, ok := status.FromError(err)
	if !ok {
		return nil, nil
	}
	var (
		info  *errdetails.ErrorInfo
		retry *errdetails.RetryInfo
	)
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			info = d
		case *errdetails.RetryInfo:
			retry = d
		}
	}
	return info, retry
}
