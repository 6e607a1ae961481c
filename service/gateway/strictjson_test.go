package gateway

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/encoding/protojson"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
)

func TestStrictJSONPbDecoder(t *testing.T) {
	tests := []struct {
		name, body string
		wantErr    bool
		wantEOF    bool
		wantCity   string
	}{
		{name: "one object", body: `{"city":"Portland"}`, wantCity: "Portland"},
		{name: "surrounding whitespace", body: " \n{\"city\":\"Portland\"}\n ", wantCity: "Portland"},
		{name: "empty body is EOF, as grpc-gateway expects", body: "", wantEOF: true},
		{name: "whitespace only is EOF", body: " \n\t", wantEOF: true},
		{name: "data after the object", body: `{"city":"Portland"}0`, wantErr: true},
		{name: "two objects", body: `{"city":"Portland"}{"notes":"x"}`, wantErr: true},
		{name: "truncated", body: `{"city":"Portland"`, wantErr: true},
		{name: "unknown field still refused by protojson", body: `{"cty":"Portland"}`, wantErr: true},
	}
	m := strictJSONPb{&runtime.JSONPb{UnmarshalOptions: protojson.UnmarshalOptions{}}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var u *directoryv1.CompanyUser
			err := m.NewDecoder(strings.NewReader(tt.body)).Decode(&u)
			switch {
			case tt.wantEOF:
				if !errors.Is(err, io.EOF) {
					t.Fatalf("err %v, want io.EOF", err)
				}
			case tt.wantErr:
				if err == nil || errors.Is(err, io.EOF) {
					t.Fatalf("err %v, want a decoding error", err)
				}
			case err != nil:
				t.Fatal(err)
			case u.GetCity() != tt.wantCity:
				t.Fatalf("city %q, want %q", u.GetCity(), tt.wantCity)
			}
		})
	}
}
