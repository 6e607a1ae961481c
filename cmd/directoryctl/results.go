package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/procore-directory/procore-directory/client"
)

// resultLine is one line of the results file: an update's outcome.
type resultLine struct {
	// Index is the update's index in the batch (0-based), Line its line in
	// the input file.
	Index int   `json:"index"`
	Line  int   `json:"line"`
	ID    int64 `json:"id"`
	// Status is the google.rpc.Code name: OK, NOT_FOUND, INVALID_ARGUMENT...
	Status string `json:"status"`
	// Reason is the ErrorInfo reason (docs/api.md, "Errors").
	Reason          string      `json:"reason,omitempty"`
	Message         string      `json:"message,omitempty"`
	FieldViolations []violation `json:"field_violations,omitempty"`
	// User is the user as Procore answered, for an applied update.
	User json.RawMessage `json:"user,omitempty"`
}

type violation struct {
	Field       string `json:"field"`
	Description string `json:"description"`
}

// writeResults writes one line per update, in the order of the file.
func writeResults(w io.Writer, items []item, results []client.ItemResult) error {
	// Users in protojson with proto field names (the CSV columns'),
	// compacted to one stable form.
	userJSON := protojson.MarshalOptions{UseProtoNames: true}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for i, r := range results {
		line := resultLine{Index: r.Index, Line: items[i].line, ID: r.ID, Status: codeName(r.Status)}
		if r.Status.Code() != 0 {
			line.Message = r.Status.Message()
			line.Reason, line.FieldViolations = details(r.Status)
		}
		if r.User != nil {
			b, err := userJSON.Marshal(r.User)
			if err != nil {
				return err
			}
			var compact bytes.Buffer
			if err := json.Compact(&compact, b); err != nil {
				return err
			}
			line.User = compact.Bytes()
		}
		if err := enc.Encode(line); err != nil {
			return err
		}
	}
	return nil
}

// codeName is the status's google.rpc.Code name.
func codeName(st *status.Status) string { return code.Code(st.Code()).String() }

// details are st's ErrorInfo reason and BadRequest violations.
func details(st *status.Status) (string, []violation) {
	info, _ := client.Details(st.Err())
	var vs []violation
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				vs = append(vs, violation{v.GetField(), v.GetDescription()})
			}
		}
	}
	return info.GetReason(), vs
}

// itemField splits a batch violation's field, `requests[3].user.email_address`,
// into the item's index and the field within it; false for a field of the
// batch itself.
func itemField(field string) (int, string, bool) {
	rest, ok := strings.CutPrefix(field, "requests[")
	if !ok {
		return 0, "", false
	}
	idx, sub, ok := strings.Cut(rest, "]")
	i, err := strconv.Atoi(idx)
	if !ok || err != nil || i < 0 {
		return 0, "", false
	}
	sub = strings.TrimPrefix(sub, ".")
	if sub == "" {
		sub = "update"
	}
	return i, sub, true
}

// refusal explains the server's refusal of the whole batch, each field
// violation at the file line of its update.
func refusal(w io.Writer, file string, items []item, err error) {
	st := status.Convert(err)
	reason, vs := details(st)
	fmt.Fprintf(w, "directoryctl: the batch was refused, nothing was sent: %s", codeName(st))
	if reason != "" {
		fmt.Fprintf(w, " %s", reason)
	}
	fmt.Fprintf(w, ": %s\n", st.Message())
	for _, v := range vs {
		if i, sub, ok := itemField(v.Field); ok && i < len(items) {
			fmt.Fprintf(w, "%s:%d: %s: %s\n", file, items[i].line, sub, v.Description)
		} else {
			fmt.Fprintf(w, "  %s: %s\n", v.Field, v.Description)
		}
	}
}
