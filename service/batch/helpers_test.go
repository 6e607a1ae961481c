package batch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"golang.org/x/oauth2/clientcredentials"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/service/batch"
	"github.com/procore-directory/procore-directory/service/operations"
	"github.com/procore-directory/procore-directory/upstream"
	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

// companyID is the company of the generated seed.
const companyID = 8089

// seed is an emulator fixture with one Directory Admin client and n users
// of company 8089, ids 1 to n.
func seed(tb testing.TB, n int) []byte {
	tb.Helper()
	users := make([]map[string]any, n)
	for i := range users {
		id := i + 1
		users[i] = map[string]any{"id": id, "first_name": "First", "last_name": fmt.Sprintf("Last%d", id),
			"email_address": fmt.Sprintf("user%d@example.test", id), "is_active": true}
	}
	b, err := json.Marshal(map[string]any{
		"oauth_clients": []map[string]any{{"client_id": "admin", "client_secret": "s", "directory_admin": true, "company_ids": []int{companyID}}},
		"companies":     []map[string]any{{"id": companyID, "name": "Test Co", "users": users}},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// harness is a Batcher over the real core and Procore client, against the
// emulator, with a memory operation store.
type harness struct {
	emu    *procoretest.Server
	client *upstream.Client
	core   *service.Service
	store  operations.Store
	b      *batch.Batcher
}

type harnessConfig struct {
	users    int
	emuOpts  []procoretest.Option
	upOpts   []upstream.Option
	opts     []batch.Option
	coreOpts []service.Option
	// url, when set, is an emulator running elsewhere (another process):
	// the harness then has no emulator of its own (emu is nil).
	url string
	// syncer wraps the client as the runner's Syncer (nil: the client).
	syncer  func(batch.Syncer) batch.Syncer
	noStart bool
}

func newHarness(tb testing.TB, cfg harnessConfig) *harness {
	tb.Helper()
	if cfg.users == 0 {
		cfg.users = 20
	}
	var emu *procoretest.Server
	url := cfg.url
	if url == "" {
		emu = procoretest.NewServer(tb, append([]procoretest.Option{procoretest.WithSeed(seed(tb, cfg.users))}, cfg.emuOpts...)...)
		url = emu.URL
	}
	hc := upstream.NewHTTPClient()
	tb.Cleanup(hc.CloseIdleConnections)
	ts := upstream.ClientCredentials(clientcredentials.Config{ClientID: "admin", ClientSecret: "s", TokenURL: url + "/oauth/token"},
		upstream.WithTokenHTTPClient(hc))
	client, err := upstream.New(url, append([]upstream.Option{upstream.WithTokenSource(ts), upstream.WithHTTPClient(hc)}, cfg.upOpts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	core, err := service.New(client, append([]service.Option{service.WithDirectoryAdminCredential()}, cfg.coreOpts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	store := operations.NewMemoryStore()
	var syncer batch.Syncer = client
	if cfg.syncer != nil {
		syncer = cfg.syncer(client)
	}
	b, err := batch.New(core, syncer, store, cfg.opts...)
	if err != nil {
		tb.Fatal(err)
	}
	h := &harness{emu: emu, client: client, core: core, store: store, b: b}
	if !cfg.noStart {
		b.Start()
	}
	tb.Cleanup(func() { b.Stop(context.Background(), context.Canceled) })
	return h
}

// wait waits for the operation to be done and returns it with its
// metadata.
func (h *harness) wait(tb testing.TB, op *longrunningpb.Operation) (*longrunningpb.Operation, *directoryv1.BatchUpdateCompanyUsersMetadata) {
	tb.Helper()
	done, err := h.store.Wait(context.Background(), "", op.GetName())
	if err != nil {
		tb.Fatal(err)
	}
	md := &directoryv1.BatchUpdateCompanyUsersMetadata{}
	if err := done.GetMetadata().UnmarshalTo(md); err != nil {
		tb.Fatal(err)
	}
	return done, md
}

// lastNames is a batch that sets last_name of the users ids to
// "New<id>".
func lastNames(ids ...int64) *directoryv1.BatchUpdateCompanyUsersRequest {
	req := &directoryv1.BatchUpdateCompanyUsersRequest{CompanyId: companyID}
	for _, id := range ids {
		req.Requests = append(req.Requests, &directoryv1.UpdateCompanyUserRequest{
			Id:         id,
			User:       &directoryv1.CompanyUser{LastName: ptr(fmt.Sprintf("New%d", id))},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"last_name"}},
		})
	}
	return req
}

func ptr[T any](v T) *T { return &v }

// ids returns 1..n.
func ids(n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(i + 1)
	}
	return out
}

// storedField reads one field of a user as the emulator stores it.
func storedField(tb testing.TB, emu *procoretest.Server, id int64, field string) any {
	tb.Helper()
	raw, ok := emu.User(companyID, id)
	if !ok {
		tb.Fatalf("user %d not in the emulator", id)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		tb.Fatal(err)
	}
	return m[field]
}

// apiRequests are the emulator's logged requests to Procore's API (not
// the token endpoint).
func apiRequests(emu *procoretest.Server) []procoretest.Request {
	var out []procoretest.Request
	for _, r := range emu.Requests() {
		if r.Path != "/oauth/token" {
			out = append(out, r)
		}
	}
	return out
}
