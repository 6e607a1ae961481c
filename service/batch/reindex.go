package batch

import (
	"fmt"
	"strconv"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/anypb"
)

// itemPath is the path of item i's field in BatchUpdateCompanyUsersRequest:
// `requests[3].user.email_address`; field "" is the item itself.
func itemPath(i int, field string) string {
	p := "requests[" + strconv.Itoa(i) + "]"
	if field != "" {
		p += "." + field
	}
	return p
}

// reindex returns err, a status the single update would return for item
// i, as the batch returns it: BadRequest field paths under
// `requests[i].`, and the ErrorInfo metadata naming the index ("index")
// and the fields under the same prefix ("field", "fields"). The message
// says which item.
func reindex(err error, i int) error {
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	pb := st.Proto()
	pb.Message = itemPath(i, "") + ": " + pb.GetMessage()
	for k, d := range pb.GetDetails() {
		msg, uerr := d.UnmarshalNew()
		if uerr != nil {
			continue
		}
		switch m := msg.(type) {
		case *errdetails.BadRequest:
			for _, v := range m.GetFieldViolations() {
				v.Field = itemPath(i, v.GetField())
			}
		case *errdetails.ErrorInfo:
			if m.Metadata == nil {
				m.Metadata = map[string]string{}
			}
			m.Metadata["index"] = strconv.Itoa(i)
			for _, key := range []string{"field", "fields"} {
				if v, ok := m.Metadata[key]; ok {
					parts := strings.Split(v, ",")
					for j := range parts {
						parts[j] = itemPath(i, parts[j])
					}
					m.Metadata[key] = strings.Join(parts, ",")
				}
			}
		default:
			continue
		}
		a, aerr := anypb.New(msg)
		if aerr != nil {
			return fmt.Errorf("batch: reindex: %w", aerr)
		}
		pb.Details[k] = a
	}
	return status.FromProto(pb).Err()
}

// badRequestOf returns the violations of an INVALID_ARGUMENT's BadRequest,
// or nil.
func badRequestOf(err error) []*errdetails.BadRequest_FieldViolation {
	st, ok := status.FromError(err)
	if !ok {
		return nil
	}
	var out []*errdetails.BadRequest_FieldViolation
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			out = append(out, br.GetFieldViolations()...)
		}
	}
	return out
}
