package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service/apierr"
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

// BenchmarkProcoreError serves Procore's 422 for a JSON PATCH (the
// service's field validation, in Procore's shape) and the same error on
// /v1 (google.rpc.Status), over a channel that refuses at once: what
// answering in Procore's shape costs beside /v1's.
func BenchmarkProcoreError(b *testing.B) {
	refusal := apierr.InvalidArgument([]*errdetails.BadRequest_FieldViolation{
		{Field: "user.email_address", Description: "value must be a valid email address", Reason: "string.email"},
	})
	h, err := New(context.Background(), errorConn{refusal})
	if err != nil {
		b.Fatal(err)
	}
	for _, route := range []struct{ name, path, body string }{
		{"procore", "/rest/v1.3/companies/8089/users/1001", `{"user":{"email_address":"nope"}}`},
		{"v1", "/v1/companies/8089/users/1001", `{"email_address":"nope"}`},
	} {
		b.Run(route.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPatch, route.path, strings.NewReader(route.body))
				r.Header.Set("Content-Type", "application/json")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code < 400 {
					b.Fatalf("HTTP %d", w.Code)
				}
			}
		})
	}
}
