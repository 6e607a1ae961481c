package batch_test

import (
	"context"
	"fmt"
	"runtime/debug"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
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
	ctx := context.Background()
	b.Run("single", func(b *testing.B) {
		start := cpuTime(b)
		for i := range b.N {
			_, err := h.core.UpdateCompanyUser(ctx, &directoryv1.UpdateCompanyUserRequest{
				CompanyId: companyID, Id: int64(i%users + 1), User: &directoryv1.CompanyUser{JobTitle: ptr(fmt.Sprint("t", i))},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"job_title"}},
			})
			if err != nil {
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
				req.Requests = append(req.Requests, &directoryv1.UpdateCompanyUserRequest{
					Id: int64(k + 1), User: &directoryv1.CompanyUser{JobTitle: ptr(fmt.Sprint("t", done+k))},
					UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"job_title"}},
				})
			}
			op, err := h.b.Submit(ctx, req)
			if err != nil {
				b.Fatal(err)
			}
			if out, md := h.wait(b, op); out.GetError() != nil || md.GetSucceeded() != int32(n) {
				b.Fatalf("batch: %v, %d succeeded", out.GetError(), md.GetSucceeded())
			}
			done += n
		}
		b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/item")
	})
}
