package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
)

// answeringConn answers every call with the same user, so a benchmark
// measures the gateway alone.
type answeringConn struct{ user *directoryv1.CompanyUser }

func (c answeringConn) Invoke(_ context.Context, _ string, _, reply any, _ ...grpc.CallOption) error {
	proto.Merge(reply.(proto.Message), c.user)
	return nil
}

func (answeringConn) NewStream(context.Context, *grpc.StreamDesc, string, ...grpc.CallOption) (grpc.ClientStream, error) {
	panic("no streams")
}

// BenchmarkProcorePatch serves a typical Procore JSON PATCH through the
// gateway (checks, decode, call, render) over a channel that answers at
// once.
func BenchmarkProcorePatch(b *testing.B) {
	name, city := "Doe", "Salem"
	h, err := New(context.Background(), answeringConn{&directoryv1.CompanyUser{Id: 1001, LastName: &name, City: &city}})
	if err != nil {
		b.Fatal(err)
	}
	body := `{"user":{"last_name":"Doe","email_address":"jane.doe@example.com","job_title":"Senior Project Manager","mobile_phone":"+1 503 555 0142","is_active":true}}`
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPatch, "/rest/v1.3/companies/8089/users/1001", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("HTTP %d: %s", w.Code, w.Body)
		}
	}
}
