package server_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

// TestBatchThroughTheStack submits a batch over gRPC in pass-through mode,
// waits for it with google.longrunning.Operations over gRPC and reads it
// over REST; another caller (another token) does not see it; reflection
// lists the Operations service.
func TestBatchThroughTheStack(t *testing.T) {
	s := startStack(t, withPassThrough(), withRequired(service.RequiredFieldsFill))
	admin, _ := s.emu.AdminClient()
	other, _ := s.emu.NonAdminClient()
	adminTok, otherTok := s.emu.Token(t, admin), s.emu.Token(t, other)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+adminTok)
	req := &directoryv1.BatchUpdateCompanyUsersRequest{CompanyId: 8089}
	for _, id := range []int64{1002, 1001} {
		req.Requests = append(req.Requests, &directoryv1.UpdateCompanyUserRequest{Id: id,
			User: &directoryv1.CompanyUser{JobTitle: ptr("Batch")}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"job_title"}}})
	}
	op, err := s.client.BatchUpdateCompanyUsers(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	conn := dialBufconn(t, s.srv)
	ops := longrunningpb.NewOperationsClient(conn)
	done, err := ops.WaitOperation(ctx, &longrunningpb.WaitOperationRequest{Name: op.GetName(), Timeout: durationpb.New(30e9)})
	if err != nil || !done.GetDone() || done.GetError() != nil {
		t.Fatalf("WaitOperation: %v, %v", done, err)
	}
	resp := &directoryv1.BatchUpdateCompanyUsersResponse{}
	if err := done.GetResponse().UnmarshalTo(resp); err != nil {
		t.Fatal(err)
	}
	if got := resp.GetCompanyUsers(); len(got) != 2 || got[0].GetId() != 1002 || got[1].GetJobTitle() != "Batch" {
		t.Errorf("response users %v", got)
	}
	if syncs := slices.IndexFunc(s.emu.Requests(), func(r procoretest.Request) bool { return strings.HasSuffix(r.Path, "/users/sync") }); syncs < 0 {
		t.Error("no sync request reached Procore")
	}

	code, _, body := s.do(t, http.MethodGet, "/v1/"+op.GetName(), "", "", "Authorization", "Bearer "+adminTok)
	if code != http.StatusOK || body["done"] != true {
		t.Errorf("REST GetOperation: %d %v", code, body)
	}
	otherCtx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+otherTok)
	if _, err := ops.GetOperation(otherCtx, &longrunningpb.GetOperationRequest{Name: op.GetName()}); status.Code(err) != codes.NotFound {
		t.Errorf("another caller's GetOperation: %v, want NOT_FOUND", err)
	}
	if _, err := ops.GetOperation(context.Background(), &longrunningpb.GetOperationRequest{Name: op.GetName()}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("GetOperation without a token: %v, want UNAUTHENTICATED", err)
	}

	// validate_only: a done operation, the preview in the header, nothing sent.
	s.emu.ResetRequests()
	req.ValidateOnly = true
	var header metadata.MD
	vop, err := s.client.BatchUpdateCompanyUsers(ctx, req, grpc.Header(&header))
	if err != nil || !vop.GetDone() {
		t.Fatalf("validate_only: %v, %v", vop, err)
	}
	if p := header.Get("x-procore-request"); len(p) != 1 || !strings.Contains(p[0], `"updates":[{"id":1001,"job_title":"Batch"},{"id":1002,"job_title":"Batch"}]`) {
		t.Errorf("validate_only preview %q", p)
	}
	if n := len(s.emu.Requests()); n != 0 {
		t.Errorf("validate_only sent %d requests", n)
	}

	stream, err := reflectionv1.NewServerReflectionClient(conn).ServerReflectionInfo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&reflectionv1.ServerReflectionRequest{MessageRequest: &reflectionv1.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	got, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	_ = stream.CloseSend()
	listed := false
	for _, svc := range got.GetListServicesResponse().GetService() {
		listed = listed || svc.GetName() == "google.longrunning.Operations"
	}
	if !listed {
		t.Errorf("reflection lists %v, without google.longrunning.Operations", got.GetListServicesResponse().GetService())
	}
}
