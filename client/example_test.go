package client_test

import (
	"context"
	"log"
	"time"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/procore-directory/procore-directory/client"
	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
)

// Example is the README's Go example, verbatim (client/readme_test.go keeps
// them equal): dial with the recipe, update one field, read the error's
// reason. It has no Output comment, so it is compiled but not run (it dials
// a real address); TestRecipe runs the same calls against the real server.
func Example() {
	ctx := context.Background()
	creds := insecure.NewCredentials() // production: credentials.NewTLS with the caller's certificate
	conn, err := grpc.NewClient("dns:///directoryd.example:9090",
		append(client.DialOptions(), grpc.WithTransportCredentials(creds))...)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	users := directoryv1.NewDirectoryServiceClient(conn)

	// Only job_title is sent to Procore; a retry by calling again reuses RequestId.
	req := &directoryv1.UpdateCompanyUserRequest{
		CompanyId:  8089,
		Id:         1001,
		User:       &directoryv1.CompanyUser{JobTitle: new("Site Lead")},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"job_title"}},
		RequestId:  uuid.NewString(),
	}
	user, err := users.UpdateCompanyUser(ctx, req)
	info, retry := client.Details(err) // each nil when absent
	switch {
	case err == nil:
		log.Printf("job title now %q", user.GetJobTitle())
	case info.GetReason() == "UPSTREAM_NOT_APPLIED" && retry != nil:
		time.Sleep(retry.GetRetryDelay().AsDuration()) // then send req again, same request_id
	case info.GetReason() == "UPSTREAM_OUTCOME_UNKNOWN":
		// read the user back (GetCompanyUser) before deciding
	default:
		log.Printf("update refused: %s", info.GetReason())
	}
}

// updateTitles is docs/api.md's Go batch example, verbatim (client/readme_test.go
// keeps them equal; TestBatchExample runs it against the real server): one
// batch of two items, the second naming a user Procore does not have.
func updateTitles(ctx context.Context, conn *grpc.ClientConn) ([]client.ItemResult, error) {
	users := directoryv1.NewDirectoryServiceClient(conn)
	req := client.NewBatch(8089, []*directoryv1.UpdateCompanyUserRequest{
		{Id: 1001, User: &directoryv1.CompanyUser{JobTitle: new("Site Lead")}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"job_title"}}},
		{Id: 999999, User: &directoryv1.CompanyUser{JobTitle: new("Nobody")}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"job_title"}}},
	})
	sub, err := client.SubmitBatch(ctx, users, req)
	if err != nil {
		return nil, err // refused as a whole, nothing sent: client.Details(err) names the items
	}
	op, err := client.WaitBatch(ctx, longrunningpb.NewOperationsClient(conn), sub.Operation,
		client.WithProgress(func(md *directoryv1.BatchUpdateCompanyUsersMetadata) {
			log.Printf("%d of %d done", md.GetSucceeded()+md.GetFailed(), md.GetTotal())
		}))
	if err != nil {
		return nil, err // the operation goes on: SubmitBatch(ctx, users, sub.Request) finds it again
	}
	results, err := client.BatchResults(sub.Request, op)
	if err != nil {
		return nil, err
	}
	for _, r := range results {
		if r.Status.Code() != codes.OK {
			log.Printf("user %d: %v %s", r.ID, r.Status.Code(), r.Status.Message()) // user 999999: NotFound …
		}
	}
	return results, nil
}

// ExampleSubmitBatch dials as Example does and runs updateTitles. It has no
// Output comment, so it is compiled but not run (it dials a real address).
func ExampleSubmitBatch() {
	conn, err := grpc.NewClient("dns:///directoryd.example:9090",
		append(client.DialOptions(), grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	if _, err := updateTitles(context.Background(), conn); err != nil {
		log.Fatal(err)
	}
}
