package auth

import (
	"context"
	"testing"
)

// TestPolicyAuditor: auditor: true grants reading the audit trail of the
// caller's companies; it defaults to false and grants nothing else.
func TestPolicyAuditor(t *testing.T) {
	p, err := ParsePolicy("policy.yaml", []byte(`
callers:
  - identity: CN-auditor
    companies: [8089]
    auditor: true
  - identity: field-app
    companies: [8089]
`))
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]bool{"CN-auditor": true, "field-app": false} {
		g, err := p.Authorize(ContextWithCaller(context.Background(), Caller{ID: id}), 8089)
		if err != nil || g.Auditor != want || g.DirectoryAdmin {
			t.Errorf("%s: grant %+v, err %v; want auditor %v", id, g, err, want)
		}
	}
	if _, err := p.Authorize(ContextWithCaller(context.Background(), Caller{ID: "CN-auditor"}), 5120); err == nil {
		t.Error("an auditor read a company the policy does not list for it")
	}
}
