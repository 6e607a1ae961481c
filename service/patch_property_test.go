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
	"github.com/procore-directory/procore-directory/upstream"
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
// the admin-only rule as included), and nothing else. Auto mode runs
// against a Procore that accepts partial bodies (one PATCH, masked fields
// only) and one that refuses them (the first PATCH of a company masked
// only, the retry with exactly the two fields added; the company's next
// update fills at once). Auto mode against a Procore that refuses partial
// bodies and reads the admin-only rule as included is left out: there
// every update that leaves out email_address is refused, by Procore's
// rules, whatever is sent (matrix_test.go in service/server covers it).
func TestPatchIsExactlyTheMask(t *testing.T) {
	type testCase struct {
		mode          RequiredFieldsMode
		admin         AdminFields
		refusePartial bool
	}
	var cases []testCase
	for _, admin := range []AdminFields{AdminFieldsChanged, AdminFieldsIncluded} {
		for _, mode := range []RequiredFieldsMode{RequiredFieldsFill, RequiredFieldsMaskedOnly, RequiredFieldsReject, RequiredFieldsAuto} {
			cases = append(cases, testCase{mode: mode, admin: admin})
		}
	}
	cases = append(cases, testCase{mode: RequiredFieldsAuto, admin: AdminFieldsChanged, refusePartial: true})
	for _, tc := range cases {
		name := tc.mode.String() + "/" + tc.admin.String()
		if tc.refusePartial {
			name += "/refused"
		}
		t.Run(name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(tc.mode), 2026))
			fake := &servicetest.Upstream{Current: servicetest.SeedUser(), RefusePartial: tc.refusePartial}
			svc, err := New(fake, WithRequiredFields(tc.mode), WithAdminFields(tc.admin))
			if err != nil {
				t.Fatal(err)
			}
			for i := range 3000 {
				fake.Reset()
				req := randomRequest(r, svc.fields)
				req.CompanyId = int64(100000 + i) // a company auto mode has not met
				// The bodies expected: the first PATCH, and in auto mode
				// against a refusing Procore the retry.
				first := tc.mode
				if tc.mode == RequiredFieldsAuto {
					first = RequiredFieldsMaskedOnly
				}
				want, wantErr, wantPatch := expectedBody(req, svc.fields, first, tc.admin)
				wantBodies := []map[string]any{want}
				wantGets := 0
				masked, _, _ := expectedBody(req, svc.fields, RequiredFieldsMaskedOnly, tc.admin)
				if filled, _, _ := expectedBody(req, svc.fields, RequiredFieldsFill, tc.admin); wantPatch && !reflect.DeepEqual(filled, masked) {
					if tc.mode == RequiredFieldsFill {
						wantGets = 1
					}
					if tc.refusePartial {
						wantBodies, wantGets = append(wantBodies, filled), 1
					}
				}
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
				checkBodies(t, i, req, fake.Updates(), wantBodies)
				if gets != wantGets {
					t.Fatalf("case %d: %d GETs, want %d", i, gets, wantGets)
				}
				if len(wantBodies) == 2 { // remembered: the next update fills at once
					fake.Reset()
					if _, err := svc.UpdateCompanyUser(context.Background(), req); err != nil {
						t.Fatalf("case %d: second update: %v", i, err)
					}
					checkBodies(t, i, req, fake.Updates(), wantBodies[1:])
				}
			}
		})
	}
}

// checkBodies compares the PATCH bodies sent with the ones expected, in
// order.
func checkBodies(t *testing.T, i int, req *directoryv1.UpdateCompanyUserRequest, sent []upstream.UpdateRequest, want []map[string]any) {
	t.Helper()
	if len(sent) != len(want) {
		t.Fatalf("case %d: %v: %d PATCHes, want %d", i, req, len(sent), len(want))
	}
	for k, u := range sent {
		raw := u.Patch.AppendJSON(nil)
		var got struct {
			User map[string]any `json:"user"`
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&got); err != nil {
			t.Fatalf("case %d: body %s is not JSON: %v", i, raw, err)
		}
		if !reflect.DeepEqual(got.User, want[k]) {
			t.Fatalf("case %d: PATCH %d of request %v\n body %s\n want %v", i, k+1, req, raw, want[k])
		}
	}
}
