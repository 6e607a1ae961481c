package server_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"

	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/service/server"
	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

// TestRequestsPerUpdate is issue #15's budget over 1,000 mixed updates
// (masks with neither required field, one, or both; the seed's two
// companies) in auto mode, the default, against the emulator: 1.00 Procore
// requests per update where partial bodies are accepted, and at most
// 2.00 + (companies)/N where they are not (each company's first update
// is refused once). With callers concurrent, the first updates of a
// company may race to be refused before the memory has the answer: at most
// one per caller and company. The figures are in BENCHMARKS.md.
func TestRequestsPerUpdate(t *testing.T) {
	const n = 1000
	for _, tc := range []struct {
		name    string
		partial bool
		callers int
	}{
		{name: "partial bodies accepted", partial: true, callers: 1},
		{name: "partial bodies refused", callers: 1},
		{name: "partial bodies refused, 16 callers", callers: 16},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if def := server.DefaultConfig().RequiredFields; def != service.RequiredFieldsAuto {
				t.Fatalf("default mode %v, want auto", def)
			}
			s := startStack(t, withoutRateLimits(), withEmulator(procoretest.WithPartialBodies(tc.partial)))
			reqs := mixedUpdates(n)
			var wg sync.WaitGroup
			errs := make(chan error, n)
			next := make(chan *directoryv1.UpdateCompanyUserRequest)
			for range tc.callers {
				wg.Go(func() {
					for req := range next {
						if _, err := s.client.UpdateCompanyUser(context.Background(), req); err != nil {
							errs <- fmt.Errorf("company %d user %d mask %v: %w", req.CompanyId, req.Id, req.UpdateMask.GetPaths(), err)
						}
					}
				})
			}
			for _, r := range reqs {
				next <- r
			}
			close(next)
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			var requests, refused int
			for _, r := range s.emu.Requests() {
				if r.Method == http.MethodGet || r.Method == http.MethodPatch {
					requests++
					if r.Status == http.StatusBadRequest {
						refused++
					}
				}
			}
			perUpdate := float64(requests) / n
			t.Logf("%d updates, %d callers: %d Procore requests (%d refused), %.3f per update", n, tc.callers, requests, refused, perUpdate)
			companies := 2
			limit := 2 + float64(companies)/n
			if tc.partial {
				limit = 1
			} else if tc.callers > 1 {
				limit = 2 + float64(companies*tc.callers)/n
			}
			if perUpdate > limit {
				t.Errorf("%.3f Procore requests per update, want at most %.3f", perUpdate, limit)
			}
		})
	}
}

// mixedUpdates are n updates of the seed's users, reproducibly random:
// job title and city always, plus last_name (unchanged) a third of the
// time and email_address (unchanged) a third of the time, so a ninth of
// them mask both required fields.
func mixedUpdates(n int) []*directoryv1.UpdateCompanyUserRequest {
	r := rand.New(rand.NewPCG(15, 2026))
	type seedUser struct {
		company, id int64
		last, email string
	}
	users := []seedUser{
		{8089, 1001, "Okafor", mariaEmail},
		{8089, 1002, "Tanaka", "jun.tanaka@summitridge.example"},
		{5120, 2001, "Adeyemi", "samuel@harborlight.example"},
	}
	out := make([]*directoryv1.UpdateCompanyUserRequest, n)
	for i := range out {
		u := users[r.IntN(len(users))]
		user := &directoryv1.CompanyUser{JobTitle: ptr(fmt.Sprintf("Title %d", i)), City: ptr("Salem")}
		paths := []string{"job_title", "city"}
		if r.IntN(3) == 0 {
			user.LastName, paths = ptr(u.last), append(paths, "last_name")
		}
		if r.IntN(3) == 0 {
			user.EmailAddress, paths = ptr(u.email), append(paths, "email_address")
		}
		out[i] = &directoryv1.UpdateCompanyUserRequest{CompanyId: u.company, Id: u.id, User: user, UpdateMask: &fieldmaskpb.FieldMask{Paths: paths}}
	}
	return out
}
