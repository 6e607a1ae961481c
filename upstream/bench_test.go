package upstream

import (
	"net/http"
	"testing"
)

func benchPatch() *Patch {
	var p Patch
	p.SetString("last_name", "Diaz")
	p.SetString("email_address", "ana@example.com")
	p.SetString("job_title", "Project Manager")
	p.SetInt("vendor_id", 301)
	p.SetBool("is_active", true)
	p.Clear("notes")
	return &p
}

func BenchmarkAppendJSON(b *testing.B) {
	p := benchPatch()
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = p.AppendJSON(buf[:0])
	}
}

func BenchmarkUpdateCompanyUser(b *testing.B) {
	f := newFake(b, func(w http.ResponseWriter, r *http.Request, n int) { writeUser(w) })
	c, _, ctx := newTestClient(b, f.URL)
	req := UpdateRequest{CompanyID: 8089, UserID: 1001, Patch: *benchPatch()}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.UpdateCompanyUser(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
