package upstream_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/procore-directory/procore-directory/upstream"
	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

// These tests check that the sync client and the emulator's sync agree on
// the wire: the request the client builds, and the answer it matches.

func syncItem(t *testing.T, c *upstream.Client, userID int64, build func(p *upstream.Patch)) upstream.SyncItem {
	t.Helper()
	req := upstream.UpdateRequest{CompanyID: company, UserID: userID}
	build(&req.Patch)
	it, err := c.NewSyncItem(req)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// TestEmulatorSync: in either order of the answer, an applied item reads
// back as sent (a cleared field cleared), an unknown id fails as not
// found, a refused value fails with its field; one request is spent.
func TestEmulatorSync(t *testing.T) {
	for _, order := range []procoretest.SyncOrder{procoretest.SyncOrderInput, procoretest.SyncOrderReversed} {
		t.Run(string(order), func(t *testing.T) {
			e := newEnv(t, []procoretest.Option{procoretest.WithSyncOrder(order)})
			items := []upstream.SyncItem{
				syncItem(t, e.client, 1001, func(p *upstream.Patch) { p.SetString("job_title", "Site Lead"); p.Clear("fax_number") }),
				syncItem(t, e.client, 999999, func(p *upstream.Patch) { p.SetString("job_title", "Nobody") }),
				syncItem(t, e.client, 1002, func(p *upstream.Patch) { p.SetString("country_code", "Narnia") }),
			}
			res, err := e.client.SyncCompanyUsers(e.ctx, company, items)
			if err != nil {
				t.Fatal(err)
			}
			got := res.Items
			if len(got) != 3 || res.Unmatched != 0 {
				t.Fatalf("%+v", res)
			}
			if got[0].Status != upstream.SyncApplied || got[0].User.JobTitle == nil || *got[0].User.JobTitle != "Site Lead" || got[0].User.FaxNumber != nil {
				t.Errorf("applied: %+v", got[0])
			}
			if got[1].Status != upstream.SyncFailed || !got[1].NotFound {
				t.Errorf("unknown id: %+v", got[1])
			}
			if got[2].Status != upstream.SyncFailed || got[2].NotFound || len(got[2].FieldErrors) == 0 || got[2].FieldErrors[0].Field != "country_code" {
				t.Errorf("invalid value: %+v", got[2])
			}
			u, err := e.client.GetCompanyUser(e.ctx, company, 1001)
			if err != nil || u.JobTitle == nil || *u.JobTitle != "Site Lead" || u.FaxNumber != nil {
				t.Fatalf("read back %+v (%v)", u, err)
			}
			if reqs := e.apiRequests(); len(reqs) != 2 || reqs[0].Method != http.MethodPatch || reqs[0].Path != "/rest/v1.3/companies/8089/users/sync" {
				t.Fatalf("requests %+v", reqs)
			}
		})
	}
}

// TestEmulatorSyncRefused: with sync forbidden or absent, the client
// reports it so the caller can fall back to single updates.
func TestEmulatorSyncRefused(t *testing.T) {
	tests := []struct {
		mode procoretest.SyncMode
		want error
	}{
		{procoretest.SyncForbidden, upstream.ErrSyncForbidden},
		{procoretest.SyncAbsent, upstream.ErrSyncAbsent},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			e := newEnv(t, []procoretest.Option{procoretest.WithSync(tt.mode)})
			item := syncItem(t, e.client, 1001, func(p *upstream.Patch) { p.SetString("job_title", "Site Lead") })
			if _, err := e.client.SyncCompanyUsers(e.ctx, company, []upstream.SyncItem{item}); !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
		})
	}
}

// TestEmulatorSyncAllFailed: whether Procore answers 200 or 422 when
// every item failed, each item's failure is reported, not one status.
func TestEmulatorSyncAllFailed(t *testing.T) {
	for _, status := range []int{http.StatusOK, http.StatusUnprocessableEntity} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			e := newEnv(t, []procoretest.Option{procoretest.WithSyncAllFailedStatus(status)})
			item := syncItem(t, e.client, 999999, func(p *upstream.Patch) { p.SetString("job_title", "Nobody") })
			res, err := e.client.SyncCompanyUsers(e.ctx, company, []upstream.SyncItem{item})
			if err != nil || len(res.Items) != 1 || res.Items[0].Status != upstream.SyncFailed || !res.Items[0].NotFound {
				t.Fatalf("%+v (%v)", res, err)
			}
		})
	}
}
