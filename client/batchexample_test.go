package client_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/procore-directory/procore-directory/client"
	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
)

// TestBatchExample runs docs/api.md's Go batch example (updateTitles)
// against directoryd's server and the emulator: user 1001 is applied and
// reads back changed, user 999999 fails NOT_FOUND, in request order.
func TestBatchExample(t *testing.T) {
	_, addr := realServer(t)
	conn, err := grpc.NewClient(addr, append(client.DialOptions(), grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	results, err := updateTitles(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		id    int64
		code  codes.Code
		title string
	}{{1001, codes.OK, "Site Lead"}, {999999, codes.NotFound, ""}}
	if len(results) != len(want) {
		t.Fatalf("%d results, want %d: %v", len(results), len(want), results)
	}
	for i, w := range want {
		r := results[i]
		if r.Index != i || r.ID != w.id || r.Status.Code() != w.code || r.User.GetJobTitle() != w.title {
			t.Errorf("result %d: index %d, user %d, %v, job title %q; want user %d, %v, %q",
				i, r.Index, r.ID, r.Status.Err(), r.User.GetJobTitle(), w.id, w.code, w.title)
		}
	}
	got, err := directoryv1.NewDirectoryServiceClient(conn).GetCompanyUser(ctx, &directoryv1.GetCompanyUserRequest{CompanyId: 8089, Id: 1001})
	if err != nil || got.GetJobTitle() != "Site Lead" {
		t.Errorf("user 1001 read back: %v, %v; want job title Site Lead", got.GetJobTitle(), err)
	}
}
