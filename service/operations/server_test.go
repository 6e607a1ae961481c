package operations

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/types/known/durationpb"

	longrunninggw "github.com/procore-directory/procore-directory/gen/google/longrunning"
)

// callerKey is the metadata key the tests' scope function reads, standing
// in for the verified caller.
const callerKey = "x-test-caller"

func testScope(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get(callerKey); len(v) == 1 {
		return "caller:" + v[0]
	}
	return ""
}

func as(caller string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), callerKey, caller)
}

// serve starts the Operations service over store on a bufconn and returns
// a client of it.
func serve(t *testing.T, store Store, opts ...ServerOption) longrunningpb.OperationsClient {
	t.Helper()
	srv, err := NewServer(store, append([]ServerOption{WithScope(testScope)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	lis := bufconn.Listen(1 << 20)
	g := grpc.NewServer()
	longrunningpb.RegisterOperationsServer(g, srv)
	go g.Serve(lis)
	t.Cleanup(g.Stop)
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return longrunningpb.NewOperationsClient(conn)
}

// reasonOf is the ErrorInfo reason of err ("" without one).
func reasonOf(err error) string {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}

func TestNewServerNeedsScopeAndStore(t *testing.T) {
	if _, err := NewServer(NewMemoryStore()); err == nil {
		t.Error("NewServer without WithScope succeeded: every caller would see every operation")
	}
	if _, err := NewServer(nil, WithScope(testScope)); err == nil {
		t.Error("NewServer without a store succeeded")
	}
}

func TestServer(t *testing.T) {
	forEach(t, func(t *testing.T, r replicas) {
		mark := WithCancelMark(func(op *longrunningpb.Operation) error { op.Metadata = counter(-1); return nil })
		// Two replicas: the operations are made through one and served by the other.
		client := serve(t, r.b, mark, WithMaxWait(time.Minute))
		ctx := context.Background()
		running := mustCreate(t, r.a, CreateRequest{Scope: "caller:alice", Metadata: counter(1)})
		done := mustCreate(t, r.a, CreateRequest{Scope: "caller:alice", Metadata: counter(1)})
		if _, err := r.a.Update(ctx, done.GetName(), finish); err != nil {
			t.Fatal(err)
		}
		_ = mustCreate(t, r.a, CreateRequest{Scope: "caller:bob"})
		unknown := "operations/00000000-0000-0000-0000-000000000000"

		tests := []struct {
			name       string
			call       func() (any, error)
			wantCode   codes.Code
			wantReason string
			check      func(t *testing.T, got any)
		}{
			{"get own", func() (any, error) {
				return client.GetOperation(as("alice"), &longrunningpb.GetOperationRequest{Name: running.GetName()})
			},
				codes.OK, "", func(t *testing.T, got any) {
					if got.(*longrunningpb.Operation).GetName() != running.GetName() {
						t.Errorf("got %v", got)
					}
				}},
			{"get another caller's", func() (any, error) {
				return client.GetOperation(as("bob"), &longrunningpb.GetOperationRequest{Name: running.GetName()})
			},
				codes.NotFound, ReasonOperationNotFound, nil},
			{"get without a caller", func() (any, error) {
				return client.GetOperation(ctx, &longrunningpb.GetOperationRequest{Name: running.GetName()})
			}, codes.NotFound, ReasonOperationNotFound, nil},
			{"get unknown", func() (any, error) {
				return client.GetOperation(as("alice"), &longrunningpb.GetOperationRequest{Name: unknown})
			},
				codes.NotFound, ReasonOperationNotFound, nil},
			{"get malformed", func() (any, error) {
				return client.GetOperation(as("alice"), &longrunningpb.GetOperationRequest{Name: "companies/1"})
			}, codes.InvalidArgument, "INVALID_REQUEST", nil},
			{"list own", func() (any, error) {
				return client.ListOperations(as("alice"), &longrunningpb.ListOperationsRequest{Name: "operations"})
			}, codes.OK, "", func(t *testing.T, got any) {
				if n := len(got.(*longrunningpb.ListOperationsResponse).GetOperations()); n != 2 {
					t.Errorf("listed %d, want alice's 2", n)
				}
			}},
			{"list with a filter", func() (any, error) {
				return client.ListOperations(as("alice"), &longrunningpb.ListOperationsRequest{Filter: "done=true"})
			}, codes.InvalidArgument, "INVALID_REQUEST", nil},
			{"list another collection", func() (any, error) {
				return client.ListOperations(as("alice"), &longrunningpb.ListOperationsRequest{Name: "companies/1/operations"})
			}, codes.InvalidArgument, "INVALID_REQUEST", nil},
			{"list a negative page size", func() (any, error) {
				return client.ListOperations(as("alice"), &longrunningpb.ListOperationsRequest{PageSize: -1})
			}, codes.InvalidArgument, "INVALID_REQUEST", nil},
			{"list a foreign page token", func() (any, error) {
				return client.ListOperations(as("alice"), &longrunningpb.ListOperationsRequest{PageToken: "abc"})
			}, codes.InvalidArgument, "INVALID_REQUEST", nil},
			{"wait on a done one", func() (any, error) {
				return client.WaitOperation(as("alice"), &longrunningpb.WaitOperationRequest{Name: done.GetName()})
			}, codes.OK, "", func(t *testing.T, got any) {
				if !got.(*longrunningpb.Operation).GetDone() {
					t.Errorf("got %v, want done", got)
				}
			}},
			{"wait past its timeout: the latest state", func() (any, error) {
				return client.WaitOperation(as("alice"), &longrunningpb.WaitOperationRequest{Name: running.GetName(), Timeout: durationpb.New(50 * time.Millisecond)})
			}, codes.OK, "", func(t *testing.T, got any) {
				if op := got.(*longrunningpb.Operation); op.GetDone() || op.GetName() != running.GetName() {
					t.Errorf("got %v, want the running operation", got)
				}
			}},
			{"wait past the caller's deadline", func() (any, error) {
				c, cancel := context.WithTimeout(as("alice"), 50*time.Millisecond)
				defer cancel()
				return client.WaitOperation(c, &longrunningpb.WaitOperationRequest{Name: running.GetName()})
			}, codes.DeadlineExceeded, "", nil},
			{"wait with a negative timeout", func() (any, error) {
				return client.WaitOperation(as("alice"), &longrunningpb.WaitOperationRequest{Name: running.GetName(), Timeout: durationpb.New(-time.Second)})
			}, codes.InvalidArgument, "INVALID_REQUEST", nil},
			{"wait on another caller's", func() (any, error) {
				return client.WaitOperation(as("bob"), &longrunningpb.WaitOperationRequest{Name: running.GetName()})
			}, codes.NotFound, ReasonOperationNotFound, nil},
			{"cancel another caller's", func() (any, error) {
				return client.CancelOperation(as("bob"), &longrunningpb.CancelOperationRequest{Name: running.GetName()})
			}, codes.NotFound, ReasonOperationNotFound, nil},
			{"cancel a done one: no-op", func() (any, error) {
				return client.CancelOperation(as("alice"), &longrunningpb.CancelOperationRequest{Name: done.GetName()})
			}, codes.OK, "", nil},
			{"delete a running one", func() (any, error) {
				return client.DeleteOperation(as("alice"), &longrunningpb.DeleteOperationRequest{Name: running.GetName()})
			}, codes.FailedPrecondition, ReasonOperationNotDone, nil},
			{"delete another caller's", func() (any, error) {
				return client.DeleteOperation(as("bob"), &longrunningpb.DeleteOperationRequest{Name: done.GetName()})
			}, codes.NotFound, ReasonOperationNotFound, nil},
			{"cancel a running one", func() (any, error) {
				return client.CancelOperation(as("alice"), &longrunningpb.CancelOperationRequest{Name: running.GetName()})
			}, codes.OK, "", func(t *testing.T, _ any) {
				if ok, err := r.a.CancelRequested(ctx, running.GetName()); !ok || err != nil {
					t.Errorf("CancelRequested on the other replica = %v, %v", ok, err)
				}
				op, err := r.a.Get(ctx, "caller:alice", running.GetName())
				if err != nil || counterOf(t, op) != -1 {
					t.Errorf("after cancel: %v, %v; want the cancel mark in the metadata", op, err)
				}
			}},
			{"delete a done one", func() (any, error) {
				return client.DeleteOperation(as("alice"), &longrunningpb.DeleteOperationRequest{Name: done.GetName()})
			}, codes.OK, "", func(t *testing.T, _ any) {
				if _, err := r.a.Get(ctx, "caller:alice", done.GetName()); !errors.Is(err, ErrNotFound) {
					t.Errorf("Get after delete = %v", err)
				}
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := tt.call()
				if status.Code(err) != tt.wantCode || reasonOf(err) != tt.wantReason {
					t.Fatalf("err = %v (reason %q), want %v (reason %q)", err, reasonOf(err), tt.wantCode, tt.wantReason)
				}
				if tt.check != nil {
					tt.check(t, got)
				}
			})
		}
	})
}

// TestRESTRoutes serves the generated gateway of google.longrunning.Operations
// (gen/google/longrunning) over the Server and calls the four routes the
// OpenAPI documents describe.
func TestRESTRoutes(t *testing.T) {
	store := NewMemoryStore()
	srv, err := NewServer(store, WithScope(testScope))
	if err != nil {
		t.Fatal(err)
	}
	// Strict "**": otherwise GET /v1/operations matches GetOperation
	// (name "operations"), registered after ListOperations.
	mux := runtime.NewServeMux(runtime.WithStrictDeepWildcardMatching(),
		runtime.WithIncomingHeaderMatcher(func(k string) (string, bool) {
			if http.CanonicalHeaderKey(k) == http.CanonicalHeaderKey(callerKey) {
				return callerKey, true // the test's stand-in for the verified caller
			}
			return runtime.DefaultHeaderMatcher(k)
		}))
	if err := longrunninggw.RegisterOperationsHandlerServer(context.Background(), mux, srv); err != nil {
		t.Fatal(err)
	}
	web := httptest.NewServer(mux)
	defer web.Close()
	op := mustCreate(t, store, CreateRequest{Scope: "caller:alice"})
	id := strings.TrimPrefix(op.GetName(), "operations/")

	call := func(method, path, body string) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequest(method, web.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set(callerKey, "alice")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		var out map[string]any
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, raw)
		}
		return res.StatusCode, out
	}
	steps := []struct {
		method, path, body string
		wantStatus         int
		wantKey            string
	}{
		{http.MethodGet, "/v1/operations/" + id, "", http.StatusOK, "name"},
		{http.MethodGet, "/v1/operations?page_size=10", "", http.StatusOK, "operations"},
		{http.MethodDelete, "/v1/operations/" + id, "", http.StatusBadRequest, "code"}, // running: FAILED_PRECONDITION
		{http.MethodPost, "/v1/operations/" + id + ":cancel", "{}", http.StatusOK, ""},
		{http.MethodGet, "/v1/operations/00000000-0000-0000-0000-000000000000", "", http.StatusNotFound, "code"},
	}
	for _, st := range steps {
		code, body := call(st.method, st.path, st.body)
		if code != st.wantStatus {
			t.Errorf("%s %s = %d %v, want %d", st.method, st.path, code, body, st.wantStatus)
		}
		if _, ok := body[st.wantKey]; st.wantKey != "" && !ok {
			t.Errorf("%s %s = %v, want a %q", st.method, st.path, body, st.wantKey)
		}
	}
	if _, err := store.Update(context.Background(), op.GetName(), finish); err != nil {
		t.Fatal(err)
	}
	if code, body := call(http.MethodDelete, "/v1/operations/"+id, ""); code != http.StatusOK {
		t.Errorf("DELETE a done operation = %d %v", code, body)
	}
}
