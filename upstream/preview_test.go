package upstream

import (
	"bytes"
	"encoding/json"
	"net/http"
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

// TestPreviewIsWhatIsSent: the preview of an update is the request
// UpdateCompanyUser sends: method, path, query, company header, content
// type and body bytes.
func TestPreviewIsWhatIsSent(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) { writeUser(w) })
	c, _, ctx := newTestClient(t, f.URL)
	no := false
	req := patchReq()
	req.RunConfigurableValidations = &no
	req.Patch.Clear("notes")
	p, err := PreviewUpdate(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateCompanyUser(ctx, req); err != nil {
		t.Fatal(err)
	}
	sent := f.requests()[0]
	if p.Method != sent.Method || p.Path != sent.Path || p.Query != sent.Query ||
		p.CompanyID != sent.Header.Get("Procore-Company-Id") || p.ContentType != sent.Header.Get("Content-Type") ||
		!bytes.Equal(p.Body, sent.Body) {
		t.Fatalf("preview %+v\nsent %s %s?%s %s", p, sent.Method, sent.Path, sent.Query, sent.Body)
	}
	if _, err := PreviewUpdate(UpdateRequest{CompanyID: 1}); asError(t, err).Kind != KindInvalidRequest {
		t.Fatalf("invalid request previewed: %v", err)
	}
}
