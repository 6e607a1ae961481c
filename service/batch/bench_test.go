package batch_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/service/batch"
	"github.com/procore-directory/procore-directory/service/operations"
	"github.com/procore-directory/procore-directory/service/servicetest"
	"github.com/procore-directory/procore-directory/upstream"
	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCPUPerItem compares the CPU one user's update costs as an item
// of a batch (a 1,000-item sync per chunk) with a single UpdateCompanyUser
// (one PATCH), in the same run, against the in-process emulator with its
// rate limits and the client's pacing off, with the garbage collector's
// target directoryd runs with. cpu-ns/item is the whole process's
// (service, client and emulator); ns/op is per item too.
func BenchmarkCPUPerItem(b *testing.B) {
	const users = 1000
	// As directoryd runs (--gc-percent's default).
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	h := newHarness(b, harnessConfig{users: users,
		emuOpts: []procoretest.Option{procoretest.WithSpikeLimit(0), procoretest.WithHourlyLimit(0), procoretest.WithPartialBodies(true), procoretest.WithRequestLogSize(1)},
		upOpts:  []upstream.Option{upstream.WithPacing(0)}})
	benchSingleAndBatch(b, h.core, h.b, h.store, users)
}

// fakeSyncer answers every sync as Procore does when every item applies,
// from users built once, so that only the service's work is measured.
type fakeSyncer struct {
	*upstream.Client // NewSyncItem: the real item builder
	users            map[int64]*upstream.User
}

func (f fakeSyncer) SyncCompanyUsers(_ context.Context, _ int64, items []upstream.SyncItem) (upstream.SyncResult, error) {
	res := upstream.SyncResult{Items: make([]upstream.SyncItemResult, len(items))}
	for i, it := range items {
		res.Items[i] = upstream.SyncItemResult{UserID: it.UserID(), Status: upstream.SyncApplied, User: f.users[it.UserID()]}
	}
	return res, nil
}

// BenchmarkServiceCPUPerItem is BenchmarkCPUPerItem without I/O: Procore
// is a fake that answers at once (servicetest.Upstream for the single
// PATCH, a fake sync for the batch), so the numbers are the service's own
// CPU per item: the single update's pipeline against a batch item's share
// of submission, chunking, the runner and the operation's records.
func BenchmarkServiceCPUPerItem(b *testing.B) {
	const users = 1000
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	fake := &servicetest.Upstream{Current: servicetest.SeedUser(), Discard: true}
	core, err := service.New(fake, service.WithDirectoryAdminCredential())
	if err != nil {
		b.Fatal(err)
	}
	client, err := upstream.New("http://127.0.0.1:1")
	if err != nil {
		b.Fatal(err)
	}
	syncer := fakeSyncer{Client: client, users: map[int64]*upstream.User{}}
	for id := int64(1); id <= users; id++ {
		u := servicetest.SeedUser()
		u.ID = id
		syncer.users[id] = u
	}
	store := operations.NewMemoryStore()
	bt, err := batch.New(core, syncer, store)
	if err != nil {
		b.Fatal(err)
	}
	bt.Start()
	defer bt.Stop(context.Background(), context.Canceled)
	benchSingleAndBatch(b, core, bt, store, users)
}

// externalEmulator builds cmd/procore-emulator and runs it as a process of
// its own with the seed of users users and no rate limits, returning its
// URL, so that the benchmark's process CPU is directoryd's alone.
func externalEmulator(b *testing.B, users int) string {
	b.Helper()
	dir := b.TempDir()
	bin := filepath.Join(dir, "procore-emulator")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/procore-directory/procore-directory/cmd/procore-emulator").CombinedOutput(); err != nil {
		b.Fatalf("build the emulator: %v\n%s", err, out)
	}
	seedFile := filepath.Join(dir, "seed.json")
	if err := os.WriteFile(seedFile, seed(b, users), 0o600); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, "--addr", "127.0.0.1:0", "--seed", seedFile, "--hourly-limit", "0", "--spike-limit", "0",
		"--partial-bodies")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if url, ok := strings.CutPrefix(sc.Text(), "procore-emulator listening on "); ok {
			go func() { _, _ = io.Copy(io.Discard, stdout) }()
			return url
		}
	}
	b.Fatal("the emulator exited before listening")
	return ""
}

// BenchmarkProcessCPUPerItem is BenchmarkCPUPerItem with the emulator in
// a process of its own: cpu-ns/item is this process's CPU only (the
// service and its Procore client, HTTP included), what directoryd spends
// per item, as the bound (a quarter of a single update's) means.
func BenchmarkProcessCPUPerItem(b *testing.B) {
	const users = 1000
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	h := newHarness(b, harnessConfig{url: externalEmulator(b, users), upOpts: []upstream.Option{upstream.WithPacing(0)}})
	benchSingleAndBatch(b, h.core, h.b, h.store, users)
}

// benchSingleAndBatch runs the two sub-benchmarks: a single update per
// iteration, and an item of a batch of up to users items per iteration.
func benchSingleAndBatch(b *testing.B, core *service.Service, bt *batch.Batcher, store operations.Store, users int) {
	ctx := context.Background()
	item := func(id int64, title string) *directoryv1.UpdateCompanyUserRequest {
		return &directoryv1.UpdateCompanyUserRequest{Id: id, User: &directoryv1.CompanyUser{JobTitle: ptr(title)},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"job_title"}}}
	}
	b.Run("single", func(b *testing.B) {
		start := cpuTime(b)
		for i := range b.N {
			req := item(int64(i%users+1), fmt.Sprint("t", i))
			req.CompanyId = companyID
			if _, err := core.UpdateCompanyUser(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/item")
	})
	b.Run("batch", func(b *testing.B) {
		start := cpuTime(b)
		for done := 0; done < b.N; {
			n := min(users, b.N-done)
			req := &directoryv1.BatchUpdateCompanyUsersRequest{CompanyId: companyID}
			for k := range n {
				req.Requests = append(req.Requests, item(int64(k+1), fmt.Sprint("t", done+k)))
			}
			op, err := bt.Submit(ctx, req)
			if err != nil {
				b.Fatal(err)
			}
			out, err := store.Wait(ctx, "", op.GetName())
			if err != nil || out.GetError() != nil {
				b.Fatalf("batch: %v %v", err, out.GetError())
			}
			done += n
		}
		b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/item")
	})
}
