package service_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service"
	"github.com/procore-directory/procore-directory/service/auth"
	"github.com/procore-directory/procore-directory/upstream/procoretest"
)

// callerKey carries the test caller's grant.
type callerKey struct{}

// grantByCaller is an Authorizer that believes the context: admin or not.
type grantByCaller struct{}

func (grantByCaller) Authorize(ctx context.Context, _ int64) (auth.Grant, error) {
	admin, _ := ctx.Value(callerKey{}).(bool)
	return auth.Grant{DirectoryAdmin: admin}, nil
}

// TestNonAdminCannotChangeEmailByRacing: an admin changes the e-mail again
// and again while a caller without directory-admin rights updates other
// fields in fill mode (which reads and resends email_address). The stored
// e-mail only ever takes values the admin sent: the fill GET and its PATCH
// are atomic with respect to the admin's writes.
func TestNonAdminCannotChangeEmailByRacing(t *testing.T) {
	svc, emu := realService(t, service.WithAuthorizer(grantByCaller{}))
	emu.SetFaults(procoretest.Faults{Latency: time.Millisecond}) // widen the window between GET and PATCH
	original := storedField(t, emu, "email_address")
	admin := context.WithValue(context.Background(), callerKey{}, true)
	field := context.WithValue(context.Background(), callerKey{}, false)
	const changes = 30
	sent := map[string]bool{original: true}
	var mu sync.Mutex
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Go(func() {
		defer close(done)
		for i := range changes {
			email := fmt.Sprintf("maria.%d@example.com", i)
			mu.Lock()
			sent[email] = true
			mu.Unlock()
			if _, err := svc.UpdateCompanyUser(admin, &directoryv1.UpdateCompanyUserRequest{CompanyId: 8089, Id: 1001,
				User: &directoryv1.CompanyUser{EmailAddress: proto.String(email)}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"email_address"}}}); err != nil {
				t.Errorf("admin: %v", err)
			}
		}
	})
	var seen []string
	for w := range 3 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				_, err := svc.UpdateCompanyUser(field, &directoryv1.UpdateCompanyUserRequest{CompanyId: 8089, Id: 1001,
					User: &directoryv1.CompanyUser{JobTitle: proto.String(fmt.Sprintf("w%d-%d", w, i))}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"job_title"}}})
				if err != nil {
					t.Errorf("non-admin: %v", err)
					return
				}
				got := storedField(t, emu, "email_address")
				mu.Lock()
				seen = append(seen, got)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	seen = append(seen, storedField(t, emu, "email_address"))
	for _, e := range seen {
		if !sent[e] {
			t.Fatalf("stored e-mail became a value no admin sent")
		}
	}
	// Every PATCH the non-admin sent carried the e-mail current at its
	// time, so the last stored value is the admin's last.
	if last := seen[len(seen)-1]; last != fmt.Sprintf("maria.%d@example.com", changes-1) {
		t.Fatalf("final e-mail is not the admin's last: a non-admin PATCH put an old one back")
	}
}
