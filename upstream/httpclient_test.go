package upstream

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// TestResponseHeaderBounded: a Procore response whose header is larger than
// the limit fails the request as a transport error instead of being held in
// memory (Go's own default would accept 10 MiB), and a header under the
// limit passes.
func TestResponseHeaderBounded(t *testing.T) {
	tests := []struct {
		name     string
		limit    int64 // 0: the default
		header   int
		wantFail bool
	}{
		{name: "default limit, 8 MiB header", header: 8 << 20, wantFail: true},
		{name: "default limit, 80 KiB header", header: 80 << 10, wantFail: true},
		{name: "default limit, 16 KiB header", header: 16 << 10},
		{name: "8 KiB limit, 16 KiB header", limit: 8 << 10, header: 16 << 10, wantFail: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Set("X-Padding", strings.Repeat("a", tt.header))
				writeUser(w)
			})
			c, err := New(f.URL, WithHTTPClient(NewHTTPClient(WithMaxResponseHeaderBytes(tt.limit))), WithMaxAttempts(1))
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.GetCompanyUser(ContextWithToken(context.Background(), "tok"), 1, 2)
			if !tt.wantFail {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var uerr *Error
			if !errors.As(err, &uerr) || uerr.Kind != KindUnavailable {
				t.Fatalf("err %v, want a KindUnavailable *Error", err)
			}
		})
	}
}
