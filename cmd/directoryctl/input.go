package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
)

// Input formats (--format).
const (
	formatJSONL = "jsonl"
	formatCSV   = "csv"
)

// item is one update read from the file, with the line it starts on, by
// which every message about it names it.
type item struct {
	line int
	req  *directoryv1.UpdateCompanyUserRequest
}

// lineError is an input error at a line of the file.
type lineError struct {
	file string
	line int
	err  error
}

func (e *lineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.file, e.line, e.err) }
func (e *lineError) Unwrap() error { return e.err }

// formatOf is the input format: --format when given, else the file's
// extension.
func formatOf(flagFormat, file string) (string, error) {
	if flagFormat != "" {
		if flagFormat != formatJSONL && flagFormat != formatCSV {
			return "", fmt.Errorf("--format %q: want jsonl or csv", flagFormat)
		}
		return flagFormat, nil
	}
	switch strings.ToLower(filepath.Ext(file)) {
	case ".jsonl", ".ndjson":
		return formatJSONL, nil
	case ".csv":
		return formatCSV, nil
	}
	return "", fmt.Errorf("%s: cannot tell the format from the extension (.jsonl, .ndjson or .csv): give --format", file)
}

// readItems reads every update of the file, or the first error.
func readItems(file, format string, r io.Reader) ([]item, error) {
	var (
		items []item
		err   error
	)
	if format == formatCSV {
		items, err = readCSV(file, r)
	} else {
		items, err = readJSONL(file, r)
	}
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("%s: no updates", file)
	}
	return items, nil
}

// readJSONL reads one UpdateCompanyUserRequest per line, in protojson
// (field names in proto or JSON form), strictly: an unknown field is an
// error. Blank lines are skipped.
func readJSONL(file string, r io.Reader) ([]item, error) {
	br := bufio.NewReader(r)
	var items []item
	for line := 1; ; line++ {
		text, err := br.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if text = bytes.TrimSpace(text); len(text) > 0 {
			req, uerr := parseJSONItem(text)
			if uerr == nil {
				uerr = checkItem(req)
			}
			if uerr != nil {
				return nil, &lineError{file, line, uerr}
			}
			items = append(items, item{line: line, req: req})
		}
		if err != nil {
			return items, nil
		}
	}
}

// parseJSONItem is one line's request. Its update_mask may be written as
// the proto3 JSON mapping has it, one string of lowerCamelCase paths
// ("jobTitle,city"), or as grpcurl's examples in the README write it,
// {"paths": ["job_title", "city"]}.
func parseJSONItem(text []byte) (*directoryv1.UpdateCompanyUserRequest, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(text, &fields); err != nil {
		return nil, err
	}
	var paths *fieldmaskpb.FieldMask
	for _, key := range []string{"update_mask", "updateMask"} {
		raw, ok := fields[key]
		if !ok || !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		var m struct{ Paths []string }
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		paths = &fieldmaskpb.FieldMask{Paths: m.Paths}
		delete(fields, key)
		rest, err := json.Marshal(fields)
		if err != nil {
			return nil, err
		}
		text = rest
	}
	req := &directoryv1.UpdateCompanyUserRequest{}
	if err := protojson.Unmarshal(text, req); err != nil {
		return nil, err
	}
	if paths != nil {
		req.UpdateMask = paths
	}
	return req, nil
}

// checkItem refuses what the batch's own flags govern.
func checkItem(req *directoryv1.UpdateCompanyUserRequest) error {
	switch {
	case req.GetRequestId() != "":
		return errors.New("request_id: set for the whole batch (--request-id), not per update")
	case req.GetValidateOnly():
		return errors.New("validate_only: set for the whole batch (--validate-only), not per update")
	}
	return nil
}

// companyOf is the batch's company: flagCompany when set (every item's
// company_id then unset or equal to it), else the company_id every item
// carries.
func companyOf(file string, flagCompany int64, items []item) (int64, error) {
	company := flagCompany
	for _, it := range items {
		c := it.req.GetCompanyId()
		switch {
		case c == 0 && flagCompany == 0:
			return 0, &lineError{file, it.line, errors.New("no company_id: give --company-id, or a company_id on every update")}
		case c == 0:
		case flagCompany != 0 && c != flagCompany:
			return 0, &lineError{file, it.line, fmt.Errorf("company_id %d is not --company-id %d", c, flagCompany)}
		case company != 0 && c != company:
			return 0, &lineError{file, it.line, fmt.Errorf("company_id %d differs from the first update's %d: one batch updates one company", c, company)}
		default:
			company = c
		}
	}
	return company, nil
}
