package service

import (
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/procore-directory/procore-directory/upstream"
)

// explainWithheld adds to Procore's refusal of a body that lacks a
// required field the service withheld (RequiredFieldsMode.rule: email_address
// under --admin-fields=included) why it was not sent and what the caller
// can do, since Procore's own "can't be blank" would suggest the caller
// forgot it. Any other error is returned as it is.
func explainWithheld(err error, withheld []upstream.Field) error {
	if err == nil || len(withheld) == 0 {
		return err
	}
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.InvalidArgument {
		return err
	}
	named := map[string]bool{}
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				named[v.GetField()] = true
			}
		}
	}
	p := st.Proto()
	for _, f := range withheld {
		if named["user."+f.Name] {
			p.Message += "; " + f.Name + " was not sent because it was not masked and this Procore refuses any request that includes it to a credential without Directory Admin rights (--admin-fields=included): a Directory Admin caller masks " + f.Name + " to send it unchanged"
		}
	}
	return status.FromProto(p).Err()
}
