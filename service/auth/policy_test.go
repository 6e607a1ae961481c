package auth

import (
	"strings"
	"testing"
)

// testPolicy names an admin and a caller without admin rights; the
// service's authorization tests (authz_test.go) use it too, as TestPolicy.
const testPolicy = `
callers:
  - identity: spiffe://corp.example/hr-sync
    companies: [8089, 5120]
    directory_admin: true
  - identity: field-app
    companies: [8089]
`

// TestPolicy is testPolicy for the external tests of this package.
const TestPolicy = testPolicy

func TestParsePolicyErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // substrings of the error, all required
	}{
		{name: "empty file", in: "", want: []string{"p.yaml: no callers"}},
		{name: "no callers", in: "callers: []\n", want: []string{"no callers"}},
		{name: "unknown key names the line", in: "callers:\n  - identity: a\n    companies: [1]\n    admin: true\n", want: []string{"p.yaml: line 4: field admin not found in a caller entry"}},
		{name: "unknown top-level key", in: "users: []\n", want: []string{"line 1: field users not found at the top level"}},
		{name: "wrong type", in: "callers:\n  - identity: a\n    companies: [eighty]\n", want: []string{"line 3: cannot unmarshal"}},
		{name: "syntax error", in: "callers:\n  - identity: [\n", want: []string{"p.yaml:"}},
		{
			name: "every semantic problem with its line and entry",
			in: `callers:
  - identity: spiffe://x/a
    companies: [1]
  - companies: [2]
  - identity: spiffe://x/a
    companies: [3]
  - identity: "has,comma"
    companies: [0, 4, 4]
  - identity: b
`,
			want: []string{
				"p.yaml:4: callers[1]: identity is missing",
				`p.yaml:5: callers[2]: identity "spiffe://x/a" is listed twice (first as callers[0])`,
				`p.yaml:7: callers[3]: identity "has,comma"`,
				"p.yaml:7: callers[3]: company id 0",
				"p.yaml:7: callers[3]: company id 4 is listed twice",
				"p.yaml:9: callers[4]: companies is empty",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePolicy("p.yaml", []byte(tt.in))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
		})
	}
}

func TestParsePolicyFormats(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{name: "yaml", in: testPolicy},
		{name: "json", in: `{"callers": [
	{"identity": "spiffe://corp.example/hr-sync", "companies": [8089, 5120], "directory_admin": true},
	{"identity": "field-app", "companies": [8089]}
]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePolicy("p", []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			admin, field := p.callers["spiffe://corp.example/hr-sync"], p.callers["field-app"]
			if p.Len() != 2 || !admin.admin || !admin.companies[5120] || field.admin || !field.companies[8089] || field.companies[5120] {
				t.Errorf("policy %+v", p.callers)
			}
		})
	}
}
