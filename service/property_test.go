package service

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service/servicetest"
)

// randomValue returns a valid random value for a writable field, so that the
// property is about masks, not validation.
func randomValue(r *rand.Rand, fd protoreflect.FieldDescriptor) protoreflect.Value {
	switch fd.Name() {
	case "email_address":
		return protoreflect.ValueOfString(fmt.Sprintf("user%d@example.com", r.IntN(1000)))
	case "last_name":
		return protoreflect.ValueOfString([]string{"Diaz", "Müller-Łukasik", "O'Neil", "李"}[r.IntN(4)])
	case "country_code":
		return protoreflect.ValueOfString([]string{"US", "CA", "DE"}[r.IntN(3)])
	case "state_code":
		return protoreflect.ValueOfString([]string{"OR", "BC", "BE"}[r.IntN(3)])
	}
	switch fd.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString([]string{"", "x", "a \"quoted\" \\ value", "line\nbreak", "ünïcode ✓", "<b>&amp;</b>"}[r.IntN(6)])
	case protoreflect.Int64Kind:
		if fd.Name() == "business_phone_extension" {
			return protoreflect.ValueOfInt64(r.Int64N(1 << 40))
		}
		return protoreflect.ValueOfInt64(1 + r.Int64N(1<<53))
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(r.IntN(2) == 1)
	}
	panic("unexpected kind " + fd.Kind().String())
}

// randomRequest builds a user with random fields set (output-only ones too,
// which must never reach Procore) and a random mask.
func randomRequest(r *rand.Rand, uf *userFields) *directoryv1.UpdateCompanyUserRequest {
	user := &directoryv1.CompanyUser{}
	m := user.ProtoReflect()
	for _, fd := range uf.writable {
		if r.IntN(2) == 0 {
			m.Set(fd, randomValue(r, fd))
		}
	}
	if user.CountryCode != nil && user.StateCode != nil { // keep the pair valid
		user.StateCode = ptr(map[string]string{"US": "OR", "CA": "BC", "DE": "BE"}[user.GetCountryCode()])
	}
	if r.IntN(2) == 0 {
		user.Id = 99
		user.Name = ptr("Output Only")
		user.Vendor = &directoryv1.NamedReference{Id: 1, Name: "v"}
	}
	var mask *fieldmaskpb.FieldMask
	switch r.IntN(6) {
	case 0: // no mask
	case 1:
		mask = &fieldmaskpb.FieldMask{}
	case 2:
		mask = &fieldmaskpb.FieldMask{Paths: []string{"*"}}
	default:
		mask = &fieldmaskpb.FieldMask{}
		for _, fd := range uf.writable {
			if r.IntN(4) == 0 {
				mask.Paths = append(mask.Paths, string(fd.Name()))
				if r.IntN(5) == 0 { // duplicates are harmless
					mask.Paths = append(mask.Paths, string(fd.Name()))
				}
			}
		}
		if r.IntN(3) == 0 {
			mask.Paths = append(mask.Paths, []string{"id", "name", "vendor.name", "updated_at"}[r.IntN(4)])
		}
		r.Shuffle(len(mask.Paths), func(i, j int) { mask.Paths[i], mask.Paths[j] = mask.Paths[j], mask.Paths[i] })
	}
	return &directoryv1.UpdateCompanyUserRequest{CompanyId: 8089, Id: 1001, User: user, UpdateMask: mask}
}

// expectedBody states the translation independently of the implementation:
// which fields the PATCH must carry, and with what JSON value.
func expectedBody(req *directoryv1.UpdateCompanyUserRequest, uf *userFields, mode RequiredFieldsMode, admin AdminFields) (body map[string]any, wantErr bool, wantPatch bool) {
	m := req.GetUser().ProtoReflect()
	masked := map[string]bool{}
	paths := req.GetUpdateMask().GetPaths()
	for _, fd := range uf.writable {
		name := string(fd.Name())
		switch {
		case len(paths) == 0:
			masked[name] = m.Has(fd)
		case len(paths) == 1 && paths[0] == "*":
			masked[name] = true
		default:
			for _, p := range paths {
				if p == name {
					masked[name] = true
				}
			}
		}
	}
	body = map[string]any{}
	for _, fd := range uf.writable {
		name := string(fd.Name())
		if !masked[name] {
			continue
		}
		if !m.Has(fd) {
			switch {
			case name == "last_name" || name == "email_address":
				return nil, true, false
			case fd.Kind() == protoreflect.BoolKind:
				body[name] = false // the proto default, never null
			case name == "country_code" || name == "state_code":
				body[name] = nil // "" is no ISO code
			case fd.Kind() == protoreflect.StringKind:
				body[name] = ""
			default:
				body[name] = nil // integers: 0 is a value, not "none"
			}
			continue
		}
		switch v := m.Get(fd).Interface().(type) {
		case int64:
			body[name] = json.Number(fmt.Sprint(v))
		default:
			body[name] = v
		}
	}
	if len(body) == 0 {
		return nil, false, false
	}
	current := servicetest.SeedUser()
	for name, v := range map[string]string{"last_name": *current.LastName, "email_address": *current.EmailAddress} {
		if _, ok := body[name]; ok {
			continue
		}
		switch mode {
		case RequiredFieldsFill:
			if admin == AdminFieldsIncluded && name == "email_address" {
				continue // admin-only: sent only when masked
			}
			body[name] = v
		case RequiredFieldsReject:
			return nil, true, false
		}
	}
	return body, false, true
}

// TestPatchIsExactlyTheMask is the data-loss property: over random users
// and masks, in each required-fields mode and each reading of the
// admin-only rule, the PATCH body carries exactly the masked fields (set:
// the value; unset: its clear value, false, "" or null), plus last_name and
// email_address unchanged in fill mode (last_name alone when Procore reads
// the admin-only rule as included), and nothing else.
func TestPatchIsExactlyTheMask(t *testing.T) {
	for _, c := range []struct {
		mode  RequiredFieldsMode
		admin AdminFields
	}{
		{RequiredFieldsFill, AdminFieldsChanged}, {RequiredFieldsMaskedOnly, AdminFieldsChanged}, {RequiredFieldsReject, AdminFieldsChanged},
		{RequiredFieldsFill, AdminFieldsIncluded}, {RequiredFieldsMaskedOnly, AdminFieldsIncluded}, {RequiredFieldsReject, AdminFieldsIncluded},
	} {
		mode, admin := c.mode, c.admin
		t.Run(mode.String()+"/"+admin.String(), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(mode), 2026))
			fake := &servicetest.Upstream{Current: servicetest.SeedUser()}
			svc, err := New(fake, WithRequiredFields(mode), WithAdminFields(admin))
			if err != nil {
				t.Fatal(err)
			}
			for i := range 3000 {
				fake.Reset()
				req := randomRequest(r, svc.fields)
				want, wantErr, wantPatch := expectedBody(req, svc.fields, mode, admin)
				_, err = svc.UpdateCompanyUser(context.Background(), req)
				gets, updates := fake.Calls()
				if wantErr {
					if status.Code(err) != codes.InvalidArgument || gets+updates != 0 {
						t.Fatalf("case %d: %v: got err %v with %d gets %d updates; want INVALID_ARGUMENT and no upstream call", i, req, err, gets, updates)
					}
					continue
				}
				if err != nil {
					t.Fatalf("case %d: %v: unexpected error %v", i, req, err)
				}
				if !wantPatch {
					if updates != 0 {
						t.Fatalf("case %d: %v: an update that changes nothing sent a PATCH: %s", i, req, fake.Updates()[0].Patch.AppendJSON(nil))
					}
					continue
				}
				if updates != 1 {
					t.Fatalf("case %d: %d updates, want 1", i, updates)
				}
				raw := fake.Updates()[0].Patch.AppendJSON(nil)
				var got struct {
					User map[string]any `json:"user"`
				}
				dec := json.NewDecoder(bytes.NewReader(raw))
				dec.UseNumber()
				if err := dec.Decode(&got); err != nil {
					t.Fatalf("case %d: body %s is not JSON: %v", i, raw, err)
				}
				if !reflect.DeepEqual(got.User, want) {
					t.Fatalf("case %d: mode %s, request %v\n body %s\n want %v", i, mode, req, raw, want)
				}
			}
		})
	}
}
