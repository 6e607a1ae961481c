package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service/apierr"
	"github.com/procore-directory/procore-directory/service/operations"
)

// The job titles by which a test tells batchServer an item's fate.
const (
	titleNotFound = "404"     // the item fails NOT_FOUND
	titleInvalid  = "invalid" // the item fails INVALID_ARGUMENT (Procore's field error)
	badEmail      = "bad@"    // the whole batch is refused at submission
	titleHang     = "hang"    // the operation never finishes
)

// batchServer stands in for directoryd's batch (written elsewhere): a
// DirectoryService whose BatchUpdateCompanyUsers runs each item by its job
// title, over the real operations store and google.longrunning.Operations
// server, in two progress steps.
type batchServer struct {
	directoryv1.UnimplementedDirectoryServiceServer
	store *operations.MemoryStore
	calls atomic.Int32 // BatchUpdateCompanyUsers calls received
	auth  atomic.Value // string: the last call's authorization metadata
}

// serveBatch starts batchServer on a loopback port and returns its address.
func serveBatch(t *testing.T, opts ...grpc.ServerOption) (*batchServer, string) {
	t.Helper()
	s := &batchServer{store: operations.NewMemoryStore()}
	ops, err := operations.NewServer(s.store, operations.WithScope(func(context.Context) string { return "test" }))
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer(opts...)
	directoryv1.RegisterDirectoryServiceServer(g, s)
	longrunningpb.RegisterOperationsServer(g, ops)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = g.Serve(lis) }()
	t.Cleanup(g.Stop)
	return s, lis.Addr().String()
}

func mustAny(m proto.Message) *anypb.Any {
	a, err := anypb.New(m)
	if err != nil {
		panic(err)
	}
	return a
}

func (s *batchServer) BatchUpdateCompanyUsers(ctx context.Context, req *directoryv1.BatchUpdateCompanyUsersRequest) (*longrunningpb.Operation, error) {
	s.calls.Add(1)
	in, _ := metadata.FromIncomingContext(ctx)
	s.auth.Store(strings.Join(in.Get("authorization"), ","))
	var bad []*errdetails.BadRequest_FieldViolation
	for i, it := range req.GetRequests() {
		if it.GetUser().GetEmailAddress() == badEmail {
			bad = append(bad, &errdetails.BadRequest_FieldViolation{Field: "requests[" + strconv.Itoa(i) + "].user.email_address", Description: "must be an email address"})
		}
	}
	if bad != nil {
		return nil, apierr.InvalidArgument(bad)
	}
	n := int32(len(req.GetRequests()))
	md := &directoryv1.BatchUpdateCompanyUsersMetadata{Total: n, Pending: n}
	if req.GetValidateOnly() {
		var users []map[string]any
		for _, it := range req.GetRequests() {
			users = append(users, map[string]any{"id": it.GetId(), "mask": it.GetUpdateMask().GetPaths()})
		}
		b, _ := json.Marshal([]map[string]any{{"method": "PATCH", "path": "/rest/v1.3/companies/" + strconv.Itoa(int(req.GetCompanyId())) + "/users/sync", "users": users}})
		_ = grpc.SetHeader(ctx, metadata.Pairs(apierr.ProcoreRequestHeader, string(b)))
		return &longrunningpb.Operation{Name: "operations/validate-only", Done: true, Metadata: mustAny(md),
			Result: &longrunningpb.Operation_Response{Response: mustAny(&directoryv1.BatchUpdateCompanyUsersResponse{})}}, nil
	}
	body, _ := proto.MarshalOptions{Deterministic: true}.Marshal(req)
	sum := sha256.Sum256(body)
	op, created, err := s.store.Create(ctx, operations.CreateRequest{Scope: "test", RequestID: req.GetRequestId(), Fingerprint: hex.EncodeToString(sum[:]), Metadata: mustAny(md)})
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	if created && req.GetRequests()[0].GetUser().GetJobTitle() != titleHang {
		go s.work(op.GetName(), req)
	}
	return op, nil
}

// work applies the items in two steps, as chunks would.
func (s *batchServer) work(name string, req *directoryv1.BatchUpdateCompanyUsersRequest) {
	ctx := context.Background()
	items := req.GetRequests()
	md := &directoryv1.BatchUpdateCompanyUsersMetadata{Total: int32(len(items)), FailedRequests: map[int32]*spb.Status{}}
	resp := &directoryv1.BatchUpdateCompanyUsersResponse{}
	half := len(items) / 2
	for _, step := range [][2]int{{0, half}, {half, len(items)}} {
		for i := step[0]; i < step[1]; i++ {
			if st := fate(items[i]); st != nil {
				md.FailedRequests[int32(i)] = st.Proto()
				md.Failed++
				continue
			}
			md.Succeeded++
			resp.CompanyUsers = append(resp.CompanyUsers, &directoryv1.CompanyUser{Id: items[i].GetId(), JobTitle: items[i].GetUser().JobTitle, Name: proto.String("User " + strconv.Itoa(int(items[i].GetId())))})
		}
		md.Pending = md.Total - md.Succeeded - md.Failed
		done := md.Pending == 0
		_, _ = s.store.Update(ctx, name, func(op *longrunningpb.Operation) error {
			op.Metadata = mustAny(md)
			if !done {
				return nil
			}
			op.Done = true
			if md.Succeeded == 0 {
				op.Result = &longrunningpb.Operation_Error{Error: status.New(codes.Aborted, "None of the requests succeeded, refer to the BatchUpdateCompanyUsersMetadata.failed_requests field for details").Proto()}
			} else {
				op.Result = &longrunningpb.Operation_Response{Response: mustAny(resp)}
			}
			return nil
		})
	}
}

// fate is an item's failure, nil when it applies.
func fate(it *directoryv1.UpdateCompanyUserRequest) *status.Status {
	switch it.GetUser().GetJobTitle() {
	case titleNotFound:
		return status.Convert(apierr.New(codes.NotFound, "USER_NOT_FOUND", "no such company user", nil))
	case titleInvalid:
		return status.Convert(apierr.InvalidArgument([]*errdetails.BadRequest_FieldViolation{{Field: "user.job_title", Description: "is not allowed"}}))
	}
	return nil
}
