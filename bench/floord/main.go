// Command floord is the floor of a gRPC facade over Procore, for
// bench/load.sh (FLOOR=1): a grpc-go server whose UpdateCompanyUser sends
// the masked fields as one JSON PATCH with net/http, with the caller's
// token, and answers with the id Procore returned. Nothing else: no
// validation, access log, metrics, spans, lock, admission, retries or
// conversion of the answer.
//
// It is what grpc-go and net/http cost by themselves, so that directoryd's
// CPU per call can be read against the least any facade on these libraries
// spends (issue #15 estimated that floor at 1.8 times the emulator's PATCH).
// It is a measuring instrument, never a service: it trusts its input and
// only listens on loopback.
//
//	floord -upstream http://127.0.0.1:PORT   (prints "floord listening: grpc=ADDR")
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service/server"
	upstreampkg "github.com/procore-directory/procore-directory/upstream"
)

type floor struct {
	directoryv1.UnimplementedDirectoryServiceServer
	hc       *http.Client
	upstream string
}

// UpdateCompanyUser forwards the five fields bench/load.sh sends.
func (s *floor) UpdateCompanyUser(ctx context.Context, req *directoryv1.UpdateCompanyUserRequest) (*directoryv1.CompanyUser, error) {
	auth := metadata.ValueFromIncomingContext(ctx, "authorization")
	if len(auth) != 1 {
		return nil, status.Error(codes.Unauthenticated, "no authorization")
	}
	u := req.GetUser()
	body := []byte(`{"user":{"email_address":`)
	body, _ = jsontext.AppendQuote(body, u.GetEmailAddress())
	body = append(body, `,"is_active":`...)
	body = strconv.AppendBool(body, u.GetIsActive())
	for _, f := range []struct{ name, v string }{{"job_title", u.GetJobTitle()}, {"last_name", u.GetLastName()}, {"mobile_phone", u.GetMobilePhone()}} {
		body = append(body, `,"`+f.name+`":`...)
		body, _ = jsontext.AppendQuote(body, f.v)
	}
	body = append(body, "}}"...)
	company := strconv.FormatInt(req.GetCompanyId(), 10)
	url := s.upstream + "/rest/v1.3/companies/" + company + "/users/" + strconv.FormatInt(req.GetId(), 10)
	r, err := http.NewRequestWithContext(ctx, http.MethodPatch, url, bytes.NewReader(body))
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	r.Header.Set("Authorization", auth[0])
	r.Header.Set("Procore-Company-Id", company)
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Accept", "application/json")
	resp, err := s.hc.Do(r)
	if err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, status.Errorf(codes.Unavailable, "upstream status %d", resp.StatusCode)
	}
	var answer struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(b, &answer); err != nil {
		return nil, status.Error(codes.Internal, "undecodable answer")
	}
	return &directoryv1.CompanyUser{Id: answer.ID}, nil
}

func main() {
	upstream := flag.String("upstream", "", "the emulator's base URL (loopback)")
	addr := flag.String("addr", "127.0.0.1:0", "gRPC listen address (loopback)")
	flag.Parse()
	if *upstream == "" {
		fmt.Fprintln(os.Stderr, "floord: -upstream is required")
		os.Exit(2)
	}
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "floord:", err)
		os.Exit(1)
	}
	if ip := lis.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
		fmt.Fprintln(os.Stderr, "floord: listens on loopback only")
		os.Exit(2)
	}
	// directoryd's HTTP client and stream workers.
	s := grpc.NewServer(grpc.NumStreamWorkers(server.DefaultStreamWorkers))
	directoryv1.RegisterDirectoryServiceServer(s, &floor{hc: upstreampkg.NewHTTPClient(), upstream: *upstream})
	fmt.Printf("floord listening: grpc=%s\n", lis.Addr())
	if err := s.Serve(lis); err != nil {
		fmt.Fprintln(os.Stderr, "floord:", err)
		os.Exit(1)
	}
}
