package main

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
)

// mustReq is an UpdateCompanyUserRequest from its protojson.
func mustReq(t *testing.T, js string) *directoryv1.UpdateCompanyUserRequest {
	t.Helper()
	req := &directoryv1.UpdateCompanyUserRequest{}
	if err := protojson.Unmarshal([]byte(js), req); err != nil {
		t.Fatal(err)
	}
	return req
}

// TestReadItems: both formats read into exactly the requests the single
// RPC takes, each with the line it starts on.
func TestReadItems(t *testing.T) {
	tests := []struct {
		name, format, in string
		wantLines        []int
		want             []string // protojson of each request
	}{
		{"jsonl: proto and JSON names, blank lines skipped", formatJSONL,
			"{\"id\": 1001, \"user\": {\"job_title\": \"Lead\"}, \"update_mask\": \"jobTitle\"}\n\n" +
				"{\"companyId\": \"8089\", \"id\": 1002, \"user\": {\"isActive\": false}, \"updateMask\": \"isActive\"}\n",
			[]int{1, 3}, []string{
				`{"id": 1001, "user": {"job_title": "Lead"}, "update_mask": "jobTitle"}`,
				`{"company_id": 8089, "id": 1002, "user": {"is_active": false}, "update_mask": "isActive"}`,
			}},
		{"jsonl: grpcurl's mask, {\"paths\": [...]}", formatJSONL,
			"{\"id\": 1001, \"user\": {\"job_title\": \"Lead\", \"city\": \"Austin\"}, \"update_mask\": {\"paths\": [\"job_title\", \"city\"]}}\n",
			[]int{1}, []string{`{"id": 1001, "user": {"job_title": "Lead", "city": "Austin"}, "update_mask": "jobTitle,city"}`}},
		{"jsonl: no final newline", formatJSONL, `{"id": 7, "user": {"city": "Austin"}}`, []int{1},
			[]string{`{"id": 7, "user": {"city": "Austin"}}`}},
		{"csv: the mask is the columns; an empty cell clears", formatCSV,
			"id,job_title,is_active,vendor_id\n1001,Lead,true,42\n1002,,false,\n",
			[]int{2, 3}, []string{
				`{"id": 1001, "user": {"job_title": "Lead", "is_active": true, "vendor_id": 42}, "update_mask": "jobTitle,isActive,vendorId"}`,
				`{"id": 1002, "user": {"is_active": false}, "update_mask": "jobTitle,isActive,vendorId"}`,
			}},
		{"csv: byte order mark, company_id and run_configurable_validations columns, quoted cells over lines", formatCSV,
			"\uFEFFcompany_id,id,notes,run_configurable_validations\n8089,5,\"two\nlines\",true\n,6,\"a, b\",\n",
			[]int{2, 4}, []string{
				`{"company_id": 8089, "id": 5, "user": {"notes": "two\nlines"}, "update_mask": "notes", "run_configurable_validations": true}`,
				`{"id": 6, "user": {"notes": "a, b"}, "update_mask": "notes"}`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, err := readItems("in", tt.format, strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != len(tt.want) {
				t.Fatalf("%d items, want %d", len(items), len(tt.want))
			}
			for i, it := range items {
				if it.line != tt.wantLines[i] {
					t.Errorf("item %d at line %d, want %d", i, it.line, tt.wantLines[i])
				}
				if want := mustReq(t, tt.want[i]); !proto.Equal(it.req, want) {
					t.Errorf("item %d: %v\nwant %v", i, it.req, want)
				}
			}
		})
	}
}

// TestReadItemsRefusesMalformedInput: every malformed input is an error
// that names the file and line, and says what is wrong.
func TestReadItemsRefusesMalformedInput(t *testing.T) {
	tests := []struct {
		name, format, in, want string
	}{
		{"jsonl: unknown field", formatJSONL, "{\"id\": 1, \"user\": {}}\n{\"id\": 2, \"usr\": {}}\n", `in:2: `},
		{"jsonl: unknown user field", formatJSONL, "\n\n{\"id\": 2, \"user\": {\"title\": \"x\"}}\n", `in:3: `},
		{"jsonl: unknown key in grpcurl's mask", formatJSONL, `{"id": 1, "update_mask": {"paths": ["city"], "x": 1}}`, `in:1: update_mask: json: unknown field "x"`},
		{"jsonl: not JSON", formatJSONL, "{\"id\": 1}\nid,job_title\n", `in:2: `},
		{"jsonl: a per-item request_id", formatJSONL, `{"id": 1, "request_id": "9b2c1e8e-6a57-4c57-9c55-6b1f5a4a7e10"}`, `in:1: request_id: set for the whole batch`},
		{"jsonl: a per-item validate_only", formatJSONL, `{"id": 1, "validate_only": true}`, `in:1: validate_only: set for the whole batch`},
		{"jsonl: empty", formatJSONL, "\n\n", `in: no updates`},
		{"csv: empty", formatCSV, "", `in: empty`},
		{"csv: header only", formatCSV, "id,job_title\n", `in: no updates`},
		{"csv: no id column", formatCSV, "job_title\nLead\n", `in:1: no id column`},
		{"csv: only id", formatCSV, "id\n1\n", `in:1: no column to update`},
		{"csv: unknown column", formatCSV, "id,title\n1,x\n", `in:1: column 2 "title": not a field of CompanyUser`},
		{"csv: output-only column", formatCSV, "id,name\n1,x\n", `in:1: column "name": output only`},
		{"csv: a column twice", formatCSV, "id,city,city\n1,a,b\n", `in:1: column "city" named twice`},
		{"csv: bad bool", formatCSV, "id,is_active\n1,true\n2,yes\n", `in:3: is_active: "yes" is not true or false`},
		{"csv: bad integer", formatCSV, "id,vendor_id\n1,4x\n", `in:2: vendor_id: "4x" is not an integer`},
		{"csv: empty id", formatCSV, "id,city\n1,a\n,b\n", `in:3: id: "" is not a positive integer`},
		{"csv: negative company_id", formatCSV, "id,city,company_id\n1,a,-3\n", `in:2: company_id: "-3" is not a positive integer`},
		{"csv: a row too short", formatCSV, "id,city\n1,a\n2\n", `in:3: wrong number of fields`},
		{"csv: a stray quote", formatCSV, "id,city\n1,a\"b\n", `in:2: bare " in non-quoted-field`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, err := readItems("in", tt.format, strings.NewReader(tt.in))
			if err == nil {
				t.Fatalf("no error; items %v", items)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error %q, want it to start %q", err, tt.want)
			}
		})
	}
}

// TestCompanyOf: --company-id or every update's own company_id, one company
// per batch.
func TestCompanyOf(t *testing.T) {
	at := func(line int, company int64) item {
		return item{line: line, req: &directoryv1.UpdateCompanyUserRequest{CompanyId: company, Id: int64(line)}}
	}
	tests := []struct {
		name    string
		flag    int64
		items   []item
		want    int64
		wantErr string
	}{
		{"the flag", 8089, []item{at(1, 0), at(2, 8089)}, 8089, ""},
		{"every line", 0, []item{at(1, 5120), at(2, 5120)}, 5120, ""},
		{"a line without, no flag", 0, []item{at(1, 5120), at(2, 0)}, 0, "in:2: no company_id"},
		{"a line of another company than the flag", 8089, []item{at(1, 0), at(4, 5120)}, 0, "in:4: company_id 5120 is not --company-id 8089"},
		{"two companies", 0, []item{at(1, 5120), at(3, 8089)}, 0, "in:3: company_id 8089 differs from the first update's 5120"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := companyOf("in", tt.flag, tt.items)
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %d, %v; want %d", got, err, tt.want)
			}
		})
	}
}

// TestItemField: a batch violation's field names the update's index and
// the field within it.
func TestItemField(t *testing.T) {
	tests := []struct {
		field  string
		i      int
		sub    string
		wantOK bool
	}{
		{"requests[3].user.email_address", 3, "user.email_address", true},
		{"requests[0]", 0, "update", true},
		{"request_id", 0, "", false},
		{"requests[x].id", 0, "", false},
		{"requests[-1].id", 0, "", false},
	}
	for _, tt := range tests {
		i, sub, ok := itemField(tt.field)
		if i != tt.i || sub != tt.sub || ok != tt.wantOK {
			t.Errorf("itemField(%q) = %d, %q, %v; want %d, %q, %v", tt.field, i, sub, ok, tt.i, tt.sub, tt.wantOK)
		}
	}
}
