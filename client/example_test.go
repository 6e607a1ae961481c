package client_test

import (
	"context"
	"log"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc"
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
