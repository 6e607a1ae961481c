package batch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service/batch"
	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

// syncPath is the sync route of the test company.
const syncPath = "/rest/v1.3/companies/8089/users/sync"

// TestTenThousandItemsCostElevenRequests: a 10,000-item batch on one
// credential under Procore's spike limit (25 per 10 s) costs at most 11
// Procore requests and meets no 429, and every user reads back as sent.
func TestTenThousandItemsCostElevenRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 users")
	}
	const n = 10000
	h := newHarness(t, harnessConfig{users: n, emuOpts: []procoretest.Option{procoretest.WithSpikeLimit(25)}})
	op, err := h.b.Submit(context.Background(), lastNames(ids(n)...))
	if err != nil {
		t.Fatal(err)
	}
	done, md := h.wait(t, op)
	if done.GetError() != nil || md.GetSucceeded() != n {
		t.Fatalf("error %v, metadata succeeded %d failed %d", done.GetError(), md.GetSucceeded(), md.GetFailed())
	}
	reqs := apiRequests(h.emu)
	var throttled int
	for _, r := range reqs {
		if r.Status == http.StatusTooManyRequests {
			throttled++
		}
	}
	t.Logf("%d items: %d Procore requests (metadata says %d), %d 429s", n, len(reqs), md.GetProcoreRequests(), throttled)
	if len(reqs) > 11 || throttled != 0 || int(md.GetProcoreRequests()) != len(reqs) {
		t.Errorf("%d requests (metadata %d), %d 429s; want at most 11 and none", len(reqs), md.GetProcoreRequests(), throttled)
	}
	for _, id := range ids(n) {
		if got := storedField(t, h.emu, id, "last_name"); got != fmt.Sprintf("New%d", id) {
			t.Fatalf("user %d last_name %v", id, got)
		}
	}
}

// randomFields are the fields the property test masks.
var randomFields = []string{"first_name", "job_title", "address", "city", "zip", "notes", "employee_id", "initials", "last_name"}

// randomBatch masks a random subset of randomFields per user, each set to
// a random value or (except last_name) cleared.
func randomBatch(rng *rand.Rand, n int) *directoryv1.BatchUpdateCompanyUsersRequest {
	req := &directoryv1.BatchUpdateCompanyUsersRequest{CompanyId: companyID}
	for _, id := range rng.Perm(n) {
		u := &directoryv1.CompanyUser{}
		var paths []string
		for _, f := range randomFields {
			if rng.IntN(3) != 0 {
				continue
			}
			paths = append(paths, f)
			if f != "last_name" && rng.IntN(4) == 0 {
				continue // masked, unset: cleared
			}
			v := fmt.Sprintf("v%d-%s", rng.IntN(1000), f)
			fd := u.ProtoReflect().Descriptor().Fields().ByName(protoName(f))
			u.ProtoReflect().Set(fd, protoString(v))
		}
		if len(paths) == 0 {
			paths = []string{"job_title"}
			u.JobTitle = ptr("only")
		}
		req.Requests = append(req.Requests, &directoryv1.UpdateCompanyUserRequest{
			Id: int64(id + 1), User: u, UpdateMask: &fieldmaskpb.FieldMask{Paths: paths},
		})
	}
	return req
}

// TestSyncItemsCarryIdAndExactlyTheMask is the property test: over random
// batches, every sync item sent names its user by id and carries exactly
// the item's masked fields, and every user reads back as sent.
func TestSyncItemsCarryIdAndExactlyTheMask(t *testing.T) {
	for seed := range uint64(8) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 23))
			n := 1 + rng.IntN(40)
			h := newHarness(t, harnessConfig{users: n, opts: []batch.Option{batch.WithChunkSize(1 + rng.IntN(15))}})
			req := randomBatch(rng, n)
			op, err := h.b.Submit(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			done, md := h.wait(t, op)
			if done.GetError() != nil || md.GetSucceeded() != int32(n) {
				t.Fatalf("error %v, metadata %v", done.GetError(), md)
			}
			byID := map[int64]*directoryv1.UpdateCompanyUserRequest{}
			for _, r := range req.GetRequests() {
				byID[r.GetId()] = r
			}
			sent := map[int64]int{}
			for _, r := range apiRequests(h.emu) {
				if r.Path != syncPath {
					t.Fatalf("%s %s: want only syncs", r.Method, r.Path)
				}
				var body struct {
					Updates []map[string]json.RawMessage `json:"updates"`
				}
				if err := json.Unmarshal(r.Body, &body); err != nil {
					t.Fatal(err)
				}
				for _, item := range body.Updates {
					var id int64
					if err := json.Unmarshal(item["id"], &id); err != nil || id <= 0 {
						t.Fatalf("sync item without an id: %s", r.Body)
					}
					sent[id]++
					var keys []string
					for k := range item {
						if k != "id" {
							keys = append(keys, k)
						}
					}
					want := slices.Clone(byID[id].GetUpdateMask().GetPaths())
					sort.Strings(keys)
					sort.Strings(want)
					if !slices.Equal(keys, want) {
						t.Errorf("user %d: item fields %v, mask %v", id, keys, want)
					}
				}
			}
			for id, r := range byID {
				if sent[id] != 1 {
					t.Errorf("user %d sent %d times", id, sent[id])
				}
				for _, f := range r.GetUpdateMask().GetPaths() {
					fd := r.GetUser().ProtoReflect().Descriptor().Fields().ByName(protoName(f))
					got := storedField(t, h.emu, id, f)
					if r.GetUser().ProtoReflect().Has(fd) {
						if want := r.GetUser().ProtoReflect().Get(fd).String(); got != want {
							t.Errorf("user %d %s = %v, want %q", id, f, got, want)
						}
					} else if got != nil && got != "" {
						t.Errorf("user %d %s = %v, want cleared", id, f, got)
					}
				}
			}
		})
	}
}

// TestFaultsNeverLieNorApplyTwice: a chunk whose answer is lost after
// Procore applied all of it, half of it, or dropped the connection after
// applying it: every item is read back, and no item is told OK but not
// applied, told a definite failure but applied, or applied twice.
func TestFaultsNeverLieNorApplyTwice(t *testing.T) {
	tests := []struct {
		name  string
		fault procoretest.Fault
	}{
		{"apply then 500", procoretest.FaultApplyThenStatus(http.StatusInternalServerError)},
		{"apply half then 500", procoretest.FaultApplyHalfThenStatus(http.StatusInternalServerError)},
		{"apply half then 502", procoretest.FaultApplyHalfThenStatus(http.StatusBadGateway)},
		{"drop after apply", procoretest.FaultDropAfterApply()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const n = 24
			h := newHarness(t, harnessConfig{users: n, opts: []batch.Option{batch.WithChunkSize(10)}})
			h.emu.Script(tt.fault) // the first chunk's sync
			req := lastNames(ids(n)...)
			op, err := h.b.Submit(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			done, md := h.wait(t, op)
			applied := map[int64]int{}
			for _, r := range apiRequests(h.emu) {
				for _, id := range r.Applied {
					applied[id]++
				}
			}
			ok := map[int64]bool{}
			resp := &directoryv1.BatchUpdateCompanyUsersResponse{}
			if done.GetResponse() != nil {
				if err := done.GetResponse().UnmarshalTo(resp); err != nil {
					t.Fatal(err)
				}
			}
			for _, u := range resp.GetCompanyUsers() {
				ok[u.GetId()] = true
			}
			for i, r := range req.GetRequests() {
				id := r.GetId()
				st, failed := md.GetFailedRequests()[int32(i)]
				switch {
				case applied[id] > 1:
					t.Errorf("user %d applied %d times", id, applied[id])
				case ok[id] && applied[id] == 0:
					t.Errorf("user %d told OK but not applied", id)
				case failed && applied[id] > 0 && !unknownOutcome(st.GetCode(), st.GetDetails()):
					t.Errorf("user %d told %v but applied", id, codes.Code(st.GetCode()))
				case !ok[id] && !failed:
					t.Errorf("user %d has no outcome", id)
				}
			}
			t.Logf("%s: %d succeeded, %d failed, %d requests", tt.name, md.GetSucceeded(), md.GetFailed(), md.GetProcoreRequests())
		})
	}
}
