package server_test

import (
	"context"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
)

// rawCodec sends bytes as they are, to put malformed messages on the wire.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *v.(*[]byte), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	*v.(*[]byte) = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

// TestMalformedProtobuf sends messages that do not decode: each gets
// INVALID_ARGUMENT with a BadRequest, not grpc-go's INTERNAL, and nothing
// reaches Procore.
func TestMalformedProtobuf(t *testing.T) {
	s := startStack(t)
	conn := s.conn

	ids := protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 8089)
	ids = protowire.AppendVarint(protowire.AppendTag(ids, 2, protowire.VarintType), 1001)
	badUser := protowire.AppendString(protowire.AppendTag(nil, 3, protowire.BytesType), "Site\xffLead") // job_title, not UTF-8
	updateBadUTF8 := protowire.AppendBytes(protowire.AppendTag(append([]byte(nil), ids...), 3, protowire.BytesType), badUser)
	tests := []struct {
		name   string
		method string
		msg    []byte
		stream bool
	}{
		{name: "truncated varint", method: directoryv1.DirectoryService_GetCompanyUser_FullMethodName, msg: []byte{0x08, 0xff}},
		{name: "bad wire type", method: directoryv1.DirectoryService_GetCompanyUser_FullMethodName, msg: []byte{0x0f}},
		{name: "string that is not UTF-8", method: directoryv1.DirectoryService_UpdateCompanyUser_FullMethodName, msg: updateBadUTF8},
		{name: "health check", method: healthpb.Health_Check_FullMethodName, msg: []byte{0x0a, 0x02, 0xc3, 0x28}},
		{name: "health watch (stream)", method: healthpb.Health_Watch_FullMethodName, msg: []byte{0x0a, 0x02, 0xc3, 0x28}, stream: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(s.emu.Requests())
			var err error
			if tt.stream {
				var cs grpc.ClientStream
				cs, err = conn.NewStream(context.Background(), &grpc.StreamDesc{ServerStreams: true}, tt.method, grpc.ForceCodec(rawCodec{}))
				if err == nil {
					if err = cs.SendMsg(&tt.msg); err == nil {
						_ = cs.CloseSend()
						var out []byte
						err = cs.RecvMsg(&out)
					}
				}
			} else {
				var out []byte
				err = conn.Invoke(context.Background(), tt.method, &tt.msg, &out, grpc.ForceCodec(rawCodec{}))
			}
			st := status.Convert(err)
			if st.Code() != codes.InvalidArgument {
				t.Fatalf("code %v (%v), want InvalidArgument", st.Code(), err)
			}
			var br *errdetails.BadRequest
			for _, d := range st.Details() {
				if b, ok := d.(*errdetails.BadRequest); ok {
					br = b
				}
			}
			if br == nil || len(br.GetFieldViolations()) != 1 || br.GetFieldViolations()[0].GetReason() != "MALFORMED_MESSAGE" {
				t.Errorf("details %v, want a BadRequest with MALFORMED_MESSAGE", st.Details())
			}
			if after := len(s.emu.Requests()); after != before {
				t.Errorf("%d requests reached Procore", after-before)
			}
		})
	}
}
