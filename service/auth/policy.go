package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
	"google.golang.org/grpc/codes"

	"github.com/procore-directory/procore-directory/service/apierr"
)

// Policy is the authorization policy of client-credentials mode: which
// callers may touch which companies, and which of them may change the
// directory-admin-only fields. It is read once at start-up (LoadPolicy)
// and never changes, so a decision never depends on a half-written file.
//
// The file is YAML (JSON, a subset of YAML, works too):
//
//	callers:
//	  - identity: spiffe://corp.example/ns/hr/sa/hr-sync   # URI SAN, else CN
//	    companies: [8089, 5120]
//	    directory_admin: true     # may change email_address, permission templates, add_to_new_projects
//	    auditor: true             # may read the companies' audit trail (ListAuditEvents)
//	  - identity: field-app       # a certificate with only a CN
//	    companies: [8089]         # directory_admin and auditor default to false
//
// A caller not listed may do nothing; a company not listed for a caller is
// refused to it. There are no wildcards: every grant is spelled out.
//
// An entry's spelling says which part of a certificate it matches
// (IdentityKindOf): one with a URI scheme ("spiffe://...", "urn:...")
// matches only a certificate's URI SAN; one without ':' matches only a
// certificate without URI SANs, by its CN. A CN is never a URI identity,
// so a certificate whose CN spells an admin's SPIFFE ID is not that admin.
type Policy struct {
	callers map[string]policyGrant
}

type policyGrant struct {
	companies map[int64]bool
	admin     bool
	auditor   bool
}

// policyFile is the file's schema; unknown keys are errors.
type policyFile struct {
	Callers []policyCaller `yaml:"callers"`
}

type policyCaller struct {
	Identity       string  `yaml:"identity"`
	Companies      []int64 `yaml:"companies"`
	DirectoryAdmin bool    `yaml:"directory_admin"`
	Auditor        bool    `yaml:"auditor"`
}

// LoadPolicy reads and validates the policy file at path.
func LoadPolicy(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return ParsePolicy(path, data)
}

// ParsePolicy parses and validates a policy; name (the file name) prefixes
// every error, which names the line and the entry, and all problems are
// reported at once so an operator fixes the file in one go.
func ParsePolicy(name string, data []byte) (*Policy, error) {
	var file policyFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	// An empty file decodes to io.EOF: reported below as "no callers".
	if err := dec.Decode(&file); err != nil && !errors.Is(err, io.EOF) {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		msg = strings.ReplaceAll(msg, "unmarshal errors:\n  ", "")
		msg = strings.ReplaceAll(msg, "\n  ", "; ")
		msg = strings.ReplaceAll(msg, "in type auth.policyCaller", "in a caller entry (want identity, companies, directory_admin, auditor)")
		msg = strings.ReplaceAll(msg, "in type auth.policyFile", "at the top level (want callers)")
		return nil, fmt.Errorf("policy %s: %s", name, msg)
	}
	lines := entryLines(data)
	var problems []error
	bad := func(i int, format string, args ...any) {
		line := 0
		if i < len(lines) {
			line = lines[i]
		}
		problems = append(problems, fmt.Errorf("policy %s:%d: callers[%d]: %s", name, line, i, fmt.Sprintf(format, args...)))
	}
	if len(file.Callers) == 0 {
		return nil, fmt.Errorf("policy %s: no callers: the policy would refuse every call; list callers with their identity and companies", name)
	}
	p := &Policy{callers: make(map[string]policyGrant, len(file.Callers))}
	firstAt := map[string]int{}
	for i, c := range file.Callers {
		switch {
		case c.Identity == "":
			bad(i, "identity is missing (a client certificate's URI SAN, e.g. spiffe://example.org/app, or its CN)")
		case !ValidIdentity(c.Identity):
			bad(i, "identity %q: want a URI SAN with its scheme (spiffe://..., matched only by a certificate's URI SAN) or a CN without ':' (matched only by a certificate's CN), in printable ASCII without commas or surrounding spaces, at most 512 bytes", c.Identity)
		default:
			if j, dup := firstAt[c.Identity]; dup {
				bad(i, "identity %q is listed twice (first as callers[%d])", c.Identity, j)
			}
			firstAt[c.Identity] = i
		}
		if len(c.Companies) == 0 {
			bad(i, "companies is empty: list the Procore company ids this caller may touch")
		}
		g := policyGrant{companies: make(map[int64]bool, len(c.Companies)), admin: c.DirectoryAdmin, auditor: c.Auditor}
		for _, id := range c.Companies {
			switch {
			case id <= 0:
				bad(i, "company id %d: want a positive Procore company id", id)
			case g.companies[id]:
				bad(i, "company id %d is listed twice", id)
			}
			g.companies[id] = true
		}
		p.callers[c.Identity] = g
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return p, nil
}

// entryLines returns the line of each entry of the top-level callers list.
func entryLines(data []byte) []int {
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil || len(root.Content) == 0 {
		return nil
	}
	m := root.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "callers" {
			var lines []int
			for _, e := range m.Content[i+1].Content {
				lines = append(lines, e.Line)
			}
			return lines
		}
	}
	return nil
}

// Len returns how many callers the policy names, for start-up logs.
func (p *Policy) Len() int { return len(p.callers) }

// Authorize implements Authorizer. Denials name no identity and no
// personal data; the company id is the caller's own request's.
func (p *Policy) Authorize(ctx context.Context, companyID int64) (Grant, error) {
	c, ok := CallerFromContext(ctx)
	if !ok {
		return Grant{}, apierr.New(codes.Unauthenticated, apierr.ReasonCallerUnauthenticated,
			"caller not authenticated: this server requires a client certificate signed by its client CA", nil)
	}
	g, ok := p.callers[c.ID]
	if !ok {
		return Grant{}, apierr.New(codes.PermissionDenied, apierr.ReasonCallerNotAllowed,
			"permission denied: this caller is not in the authorization policy", nil)
	}
	if !g.companies[companyID] {
		return Grant{}, apierr.New(codes.PermissionDenied, apierr.ReasonCompanyNotAllowed,
			fmt.Sprintf("permission denied: the authorization policy does not allow this caller company %d", companyID),
			map[string]string{"company_id": fmt.Sprint(companyID)})
	}
	return Grant{DirectoryAdmin: g.admin, Auditor: g.auditor}, nil
}
