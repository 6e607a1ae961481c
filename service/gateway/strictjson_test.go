package gateway

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

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

// TestStrictJSONPbDecodesAsJSONPb checks that decoding a well-formed body
// straight with protojson (strictJSONPb's path for message targets) gives
// what runtime.JSONPb's own decoder gives, message and error alike, for a
// body field (**CompanyUser, as the generated handlers pass it), a message,
// and a target that is no message.
func TestStrictJSONPbDecodesAsJSONPb(t *testing.T) {
	bodies := []string{
		`{"city":"Portland"}`,
		` {"job_title":"Lead","is_active":false,"vendor":{"id":7}} `,
		`{"jobTitle":"Lead","businessPhoneExtension":12}`,
		`{}`,
		`null`,
		`{"city":null}`,
		`{"cty":"Portland"}`,
		`{"is_active":"yes"}`,
		`[1,2]`,
		`"text"`,
		`{"city":"a","city":"b"}`,
	}
	opts := protojson.UnmarshalOptions{}
	strict := strictJSONPb{&runtime.JSONPb{UnmarshalOptions: opts}}
	plain := &runtime.JSONPb{UnmarshalOptions: opts}
	for _, body := range bodies {
		t.Run(body, func(t *testing.T) {
			var gotField, wantField *directoryv1.CompanyUser
			gotErr := strict.NewDecoder(strings.NewReader(body)).Decode(&gotField)
			wantErr := plain.NewDecoder(strings.NewReader(body)).Decode(&wantField)
			if (gotErr == nil) != (wantErr == nil) || !proto.Equal(gotField, wantField) {
				t.Fatalf("body field: strict gives %v, %v; JSONPb gives %v, %v", gotField, gotErr, wantField, wantErr)
			}

			gotMsg, wantMsg := &directoryv1.CompanyUser{}, &directoryv1.CompanyUser{}
			gotErr = strict.NewDecoder(strings.NewReader(body)).Decode(gotMsg)
			wantErr = plain.NewDecoder(strings.NewReader(body)).Decode(wantMsg)
			if (gotErr == nil) != (wantErr == nil) || !proto.Equal(gotMsg, wantMsg) {
				t.Fatalf("message: strict gives %v, %v; JSONPb gives %v, %v", gotMsg, gotErr, wantMsg, wantErr)
			}

			var gotAny, wantAny map[string]any
			gotErr = strict.NewDecoder(strings.NewReader(body)).Decode(&gotAny)
			wantErr = plain.NewDecoder(strings.NewReader(body)).Decode(&wantAny)
			if (gotErr == nil) != (wantErr == nil) || fmt.Sprint(gotAny) != fmt.Sprint(wantAny) {
				t.Fatalf("non-message: strict gives %v, %v; JSONPb gives %v, %v", gotAny, gotErr, wantAny, wantErr)
			}
		})
	}
}

// BenchmarkStrictJSONPbDecode decodes a typical /v1 PATCH body into a body
// field, as the generated handler does.
func BenchmarkStrictJSONPbDecode(b *testing.B) {
	body := `{"last_name":"Doe","email_address":"jane.doe@example.com","job_title":"Senior Project Manager","mobile_phone":"+1 503 555 0142","is_active":true}`
	m := strictJSONPb{&runtime.JSONPb{UnmarshalOptions: protojson.UnmarshalOptions{}}}
	b.ReportAllocs()
	for b.Loop() {
		var u *directoryv1.CompanyUser
		if err := m.NewDecoder(strings.NewReader(body)).Decode(&u); err != nil {
			b.Fatal(err)
		}
	}
}
