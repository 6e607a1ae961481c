package main

import (
	"context"
	"flag"
	"fmt"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
)

// runGRPC is the lean gRPC load generator: the generated
// DirectoryServiceClient on one connection, one prebuilt request per user
// (-users), so the client costs as little as a Go caller can and the
// measured process is directoryd, not the generator (ghz builds every
// request from JSON through reflection and is kept as a second opinion).
func runGRPC(args []string) error {
	fs := flag.NewFlagSet("grpc", flag.ExitOnError)
	var (
		addr  = fs.String("addr", "", "directoryd's gRPC address (loopback)")
		token = fs.String("token", "", "bearer token sent as authorization metadata (pass-through mode)")
		warm  = fs.Int("warmup", 2000, "calls before measuring (connections, stacks, pools)")
	)
	run := addRunFlags(fs, "grpc")
	_ = fs.Parse(args)
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return fmt.Errorf("-addr: %w", err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("-addr %s: restload only sends to loopback addresses", *addr)
	}
	if err := run.check(); err != nil {
		return err
	}
	conn, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	client := directoryv1.NewDirectoryServiceClient(conn)
	// The update of bench/load.sh: five fields, last_name and
	// email_address among them, so one PATCH reaches Procore in every mode.
	newRequest := func(id int64, email string) *directoryv1.UpdateCompanyUserRequest {
		return &directoryv1.UpdateCompanyUserRequest{
			CompanyId: benchCompany, Id: id,
			User: &directoryv1.CompanyUser{
				LastName: ptr("Diaz"), EmailAddress: ptr(email),
				JobTitle: ptr("Senior Project Manager"), MobilePhone: ptr("+1 503 555 0142"), IsActive: ptr(true),
			},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"last_name", "email_address", "job_title", "mobile_phone", "is_active"}},
		}
	}
	reqs := []*directoryv1.UpdateCompanyUserRequest{newRequest(benchTemplate, "ana.diaz@summitridge.example")}
	next := func() *directoryv1.UpdateCompanyUserRequest { return reqs[0] }
	if run.users > 0 {
		cycle, err := newUserCycle(run.users)
		if err != nil {
			return err
		}
		reqs = reqs[:0]
		for i := range int64(run.users) {
			reqs = append(reqs, newRequest(firstBenchUser+i, benchEmail(firstBenchUser+i)))
		}
		next = func() *directoryv1.UpdateCompanyUserRequest { return reqs[cycle.id()-firstBenchUser] }
	}
	md := metadata.MD{}
	if *token != "" {
		md.Set("authorization", "Bearer "+*token)
	}
	send := func(ctx context.Context) error {
		_, err := client.UpdateCompanyUser(metadata.NewOutgoingContext(ctx, md), next())
		return err
	}
	for range *warm {
		if err := send(context.Background()); err != nil {
			return fmt.Errorf("warm-up call: %w", err)
		}
	}
	return run.measure(send)
}

func ptr[T any](v T) *T { return &v }
