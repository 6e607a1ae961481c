package upstream

import (
	"net/http"
	"strconv"
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

// emulatorUserJSON is the emulator's answer to an update of user 1001, as
// BenchmarkFacade (service/bench_test.go) receives it on every call.
const emulatorUserJSON = `{"id":1001,"first_name":"Maria","last_name":"Diaz","name":"Maria Diaz","email_address":"ana.diaz@summitridge.example","job_title":"Senior Project Manager","address":"1200 Alder Street, Suite 4","city":"Portland","zip":"97205","country_code":"US","state_code":"OR","business_phone":"+1 503 555 0142","business_phone_extension":214,"mobile_phone":"+1 503 555 0142","fax_number":null,"email_signature":"Maria Okafor | Summit Ridge Construction","is_active":true,"is_employee":true,"employee_id":"SRC-0042","notes":"Primary contact for the Lloyd District tower.","initials":"MO","origin_id":"hr-7781","origin_data":"{\"source\":\"workday\"}","add_to_new_projects":false,"vendor_id":null,"default_permission_template_id":41,"company_permission_template_id":null,"work_classification_id":null,"avatar":null,"vendor":null,"permission_template":{"id":41,"name":"Project Manager"},"company_permission_template":null,"business_id":null,"is_insurance_manager":false,"last_login_at":"2026-11-20T16:04:11Z","welcome_email_sent_at":"2024-03-02T09:00:00Z","created_at":"2024-03-01T18:22:05Z","updated_at":"2026-11-29T03:32:46Z"}`

func BenchmarkDecodeUser(b *testing.B) {
	body := []byte(emulatorUserJSON)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeUser(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSyncCompanyUsers is one full sync (MaxSyncItems items, each the
// patch of BenchmarkUpdateCompanyUser) answered with an entity per item
// as big as the emulator's user; ns/item compares with
// BenchmarkUpdateCompanyUser's ns/op.
func BenchmarkSyncCompanyUsers(b *testing.B) {
	var answer []byte
	answer = append(answer, `{"entities":[`...)
	for i := range MaxSyncItems {
		if i > 0 {
			answer = append(answer, ',')
		}
		answer = append(answer, `{"id":`+strconv.Itoa(i+1)+emulatorUserJSON[len(`{"id":1001`):]...)
	}
	answer = append(answer, `],"errors":[]}`...)
	f := newFake(b, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(answer)
	})
	c, _, ctx := newTestClient(b, f.URL)
	items := make([]SyncItem, MaxSyncItems)
	for i := range items {
		it, err := c.NewSyncItem(UpdateRequest{CompanyID: 8089, UserID: int64(i + 1), Patch: *benchPatch()})
		if err != nil {
			b.Fatal(err)
		}
		items[i] = it
	}
	b.ReportAllocs()
	for b.Loop() {
		res, err := c.SyncCompanyUsers(ctx, 8089, items)
		if err != nil || res.Items[MaxSyncItems-1].Status != SyncApplied {
			b.Fatal(res.Unmatched, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*MaxSyncItems), "ns/item")
}
