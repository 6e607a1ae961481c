package procoretest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkEmulatorPatch measures PATCH throughput, in-process (handler
// only) and over loopback HTTP, with parallel clients, so the emulator is
// known never to be the bottleneck of a benchmark of the real client.
func BenchmarkEmulatorPatch(b *testing.B) {
	body := patchBody(withRequired(map[string]any{"job_title": "Bench", "is_active": true, "business_phone_extension": 7, "state_code": "OR"}))
	b.Run("in-process", func(b *testing.B) {
		e := newEmu(b, WithHourlyLimit(0), WithSpikeLimit(0), WithRequestLogSize(1000))
		tok := mustToken(b, e, adminClient)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				r := httptest.NewRequest(http.MethodPatch, "/rest/v1.3/companies/8089/users/1001", bytes.NewReader(body))
				r.Header.Set("Authorization", "Bearer "+tok)
				r.Header.Set("Procore-Company-Id", "8089")
				r.Header.Set("Content-Type", "application/json")
				w := httptest.NewRecorder()
				e.ServeHTTP(w, r)
				if w.Code != 200 {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	})
	b.Run("loopback", func(b *testing.B) {
		s := NewServer(b, WithHourlyLimit(0), WithSpikeLimit(0), WithRequestLogSize(1000))
		tok := mustToken(b, s.Emulator, adminClient)
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
		url := s.URL + "/rest/v1.3/companies/8089/users/1001"
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				req, _ := http.NewRequest(http.MethodPatch, url, bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+tok)
				req.Header.Set("Procore-Company-Id", "8089")
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
		})
	})
}

// BenchmarkEmulatorSync measures one full 1,000-item sync in-process and
// reports the cost per item, so the emulator is known not to dominate a
// benchmark of the batch path either.
func BenchmarkEmulatorSync(b *testing.B) {
	items := make([]map[string]any, 1000)
	for i := range items {
		items[i] = map[string]any{"id": 1001 + i%4, "job_title": "Bench", "is_active": true, "business_phone_extension": i}
	}
	body := syncBody(items...)
	e := newEmu(b, WithHourlyLimit(0), WithSpikeLimit(0), WithRequestLogSize(1000))
	tok := mustToken(b, e, adminClient)
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPatch, "/rest/v1.3/companies/8089/users/sync", bytes.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+tok)
		r.Header.Set("Procore-Company-Id", "8089")
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		e.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatalf("status %d: %.300s", w.Code, w.Body)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(items)), "ns/item")
}
