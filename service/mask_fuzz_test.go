package service

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
)

// FuzzResolveMask: any mask either fails with violations on update_mask or
// selects only writable fields that it names.
func FuzzResolveMask(f *testing.F) {
	for _, s := range []string{"", "*", "job_title", "job_title,city", "vendor.name", "vendor.nope", "job_title.x", "*,city", "id", "a..b", ".", "user.city"} {
		f.Add(s)
	}
	uf, err := newUserFields()
	if err != nil {
		f.Fatal(err)
	}
	user := &directoryv1.CompanyUser{City: ptr("x")}
	f.Fuzz(func(t *testing.T, s string) {
		var mask *fieldmaskpb.FieldMask
		if s != "" {
			mask = &fieldmaskpb.FieldMask{Paths: strings.Split(s, ",")}
		}
		fields, violations := uf.resolveMask(mask, user)
		if len(violations) > 0 {
			if fields != nil {
				t.Fatalf("%q: both fields and violations", s)
			}
			for _, v := range violations {
				if v.GetField() != "update_mask" {
					t.Fatalf("%q: violation on %q", s, v.GetField())
				}
			}
			return
		}
		named := map[string]bool{}
		for _, p := range mask.GetPaths() {
			named[p] = true
		}
		for _, fd := range fields {
			if uf.outputOnly[fd.Name()] {
				t.Fatalf("%q selected output-only %s", s, fd.Name())
			}
			if len(named) > 0 && !named["*"] && !named[string(fd.Name())] {
				t.Fatalf("%q selected %s, which it does not name", s, fd.Name())
			}
		}
	})
}
