package upstream

import (
	"encoding/json"
	"testing"
)

// TestASCIIJSON: the preview header is printable ASCII whatever the body
// holds, and decodes to the same value.
func TestASCIIJSON(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"plain", `"plain"`},
		{"Zoë", `"Zo\u00eb"`},
		{"a😀b", `"a\ud83d\ude00b"`},
		{"tab\there", `"tab\there"`},
		{"<&>", `"\u003c\u0026\u003e"`},
	}
	for _, tt := range tests {
		got, err := ASCIIJSON(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tt.want {
			t.Errorf("ASCIIJSON(%q) = %s, want %s", tt.in, got, tt.want)
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil || back != tt.in {
			t.Errorf("%s decodes to %q (%v), want %q", got, back, err, tt.in)
		}
	}
}

// TestPatchApplyTo: set, cleared and untouched fields.
func TestPatchApplyTo(t *testing.T) {
	title, city := "Old", "Salem"
	u := &User{ID: 7, JobTitle: &title, City: &city}
	var p Patch
	p.SetString("job_title", "New")
	p.Clear("city")
	p.SetInt("vendor_id", 42)
	p.SetBool("is_active", true)
	got := p.ApplyTo(u)
	if got.JobTitle == nil || *got.JobTitle != "New" || got.City != nil || got.VendorID == nil || *got.VendorID != 42 ||
		got.IsActive == nil || !*got.IsActive || got.ID != 7 {
		t.Fatalf("applied: %+v", got)
	}
	if *u.JobTitle != "Old" || u.City == nil {
		t.Fatal("ApplyTo changed its argument")
	}
}
