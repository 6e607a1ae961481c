package service

import (
	"context"
	"testing"

	directoryv1 "github.com/procore-directory/procore-directory/gen/procore/directory/v1"
	"github.com/procore-directory/procore-directory/service/servicetest"
)

// TestAvatarIsPassedThrough: a valid avatar reaches the upstream request.
func TestAvatarIsPassedThrough(t *testing.T) {
	fake := &servicetest.Upstream{Current: servicetest.SeedUser()}
	svc, _ := New(fake, WithRequiredFields(RequiredFieldsMaskedOnly))
	_, err := svc.UpdateCompanyUser(context.Background(), &directoryv1.UpdateCompanyUserRequest{
		CompanyId: 8089, Id: 1001, User: &directoryv1.CompanyUser{},
		Avatar: &directoryv1.AvatarUpload{Content: pngBytes, FileName: "me.png", ContentType: "image/png"},
	})
	if err != nil {
		t.Fatal(err)
	}
	a := fake.Updates()[0].Avatar
	if a == nil || a.FileName != "me.png" || a.ContentType != "image/png" || string(a.Data) != string(pngBytes) {
		t.Errorf("avatar %+v", a)
	}
	if fake.Updates()[0].Patch.Len() != 0 {
		t.Errorf("patch %s, want no fields", fake.Updates()[0].Patch.AppendJSON(nil))
	}
}
