package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
)

// The CSV columns that are not fields of CompanyUser.
const (
	colID          = "id"                           // required: the user
	colCompanyID   = "company_id"                   // optional: empty is --company-id
	colValidations = "run_configurable_validations" // optional: empty is unset
)

// column is how one CSV column is read.
type column struct {
	name  string
	field protoreflect.FieldDescriptor // nil for the columns above
}

// readCSV reads a CSV file whose header names the columns: `id`, any
// writable CompanyUser fields by their proto names (`job_title`), and
// optionally `company_id` and `run_configurable_validations`. The update
// mask of every row is the header's CompanyUser columns.
//
// An empty cell clears its field (the mask names it and the user leaves it
// unset, which is how UpdateCompanyUser clears a field). There is no way to
// leave one field unchanged for one row: a column is in every row's mask,
// so updates that change different fields go in separate files, or in JSON
// lines, where each update has its own mask. An empty `company_id` or
// `run_configurable_validations` cell is simply unset.
func readCSV(file string, r io.Reader) ([]item, error) {
	br := bufio.NewReader(r)
	if bom, _ := br.Peek(3); string(bom) == "\uFEFF" {
		_, _ = br.Discard(3) // a spreadsheet's UTF-8 byte order mark
	}
	cr := csv.NewReader(br)
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: empty: want a header line naming the columns", file)
	}
	if err != nil {
		return nil, csvError(file, err)
	}
	cols, mask, err := parseHeader(header)
	if err != nil {
		return nil, &lineError{file, 1, err}
	}
	var items []item
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return items, nil
		}
		if err != nil {
			return nil, csvError(file, err)
		}
		line, _ := cr.FieldPos(0)
		req, err := parseRow(cols, rec)
		if err != nil {
			return nil, &lineError{file, line, err}
		}
		req.UpdateMask = &fieldmaskpb.FieldMask{Paths: slices.Clone(mask)}
		items = append(items, item{line: line, req: req})
	}
}

// csvError names the line of encoding/csv's error.
func csvError(file string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &lineError{file, pe.Line, pe.Err}
	}
	return fmt.Errorf("%s: %w", file, err)
}

// parseHeader resolves the header's columns and the mask they make.
func parseHeader(header []string) ([]column, []string, error) {
	fields := (&directoryv1.CompanyUser{}).ProtoReflect().Descriptor().Fields()
	cols := make([]column, len(header))
	var mask []string
	seen := map[string]bool{}
	for j, name := range header {
		if seen[name] {
			return nil, nil, fmt.Errorf("column %q named twice", name)
		}
		seen[name] = true
		cols[j].name = name
		switch name {
		case colID, colCompanyID, colValidations:
			continue
		}
		fd := fields.ByName(protoreflect.Name(name))
		switch {
		case fd == nil:
			return nil, nil, fmt.Errorf("column %d %q: not a field of CompanyUser (columns are its proto field names, such as job_title)", j+1, name)
		case outputOnly(fd):
			return nil, nil, fmt.Errorf("column %q: output only, it cannot be updated", name)
		}
		cols[j].field = fd
		mask = append(mask, name)
	}
	switch {
	case !seen[colID]:
		return nil, nil, errors.New("no id column")
	case len(mask) == 0:
		return nil, nil, errors.New("no column to update besides id")
	}
	return cols, mask, nil
}

func outputOnly(fd protoreflect.FieldDescriptor) bool {
	behaviors, _ := proto.GetExtension(fd.Options(), annotations.E_FieldBehavior).([]annotations.FieldBehavior)
	return slices.Contains(behaviors, annotations.FieldBehavior_OUTPUT_ONLY)
}

// parseRow is one row's update.
func parseRow(cols []column, rec []string) (*directoryv1.UpdateCompanyUserRequest, error) {
	req := &directoryv1.UpdateCompanyUserRequest{User: &directoryv1.CompanyUser{}}
	user := req.User.ProtoReflect()
	for j, cell := range rec {
		c := cols[j]
		var err error
		switch {
		case c.field != nil:
			if cell != "" {
				var v protoreflect.Value
				if v, err = scalar(c.field, cell); err == nil {
					user.Set(c.field, v)
				}
			}
		case c.name == colID:
			req.Id, err = positive(cell)
		case c.name == colCompanyID && cell != "":
			req.CompanyId, err = positive(cell)
		case c.name == colValidations && cell != "":
			var b bool
			b, err = strictBool(cell)
			req.RunConfigurableValidations = &b
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
	}
	return req, nil
}

// scalar parses a cell as the field's value, as strictly as protojson.
func scalar(fd protoreflect.FieldDescriptor, cell string) (protoreflect.Value, error) {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(cell), nil
	case protoreflect.BoolKind:
		b, err := strictBool(cell)
		return protoreflect.ValueOfBool(b), err
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		n, err := strconv.ParseInt(cell, 10, 64)
		if err != nil {
			return protoreflect.Value{}, fmt.Errorf("%q is not an integer", cell)
		}
		return protoreflect.ValueOfInt64(n), nil
	}
	return protoreflect.Value{}, fmt.Errorf("a %s field cannot be read from CSV: use JSON lines", fd.Kind())
}

func strictBool(cell string) (bool, error) {
	switch cell {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false", cell)
}

func positive(cell string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(cell), 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a positive integer", cell)
	}
	return n, nil
}
