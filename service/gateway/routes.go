package gateway

import (
	"net/http"
	"slices"
	"strings"
)

// v1Pattern is the /v1 route's path template (GET and PATCH, grpc-gateway's
// generated handlers).
const v1Pattern = "/v1/companies/{company_id}/users/{id}"

// routeTable knows which methods each path template serves, so that a
// request with the wrong method can be told which ones to use (the Allow
// header of a 405): grpc-gateway's mux only says that some other method
// matched. TestRouteTableMatchesServer keeps it true to what is served.
type routeTable struct {
	routes []tableRoute
}

type tableRoute struct {
	segments []string // "{name}" matches any one non-empty segment
	methods  []string
}

// add records that template serves methods.
func (t *routeTable) add(template string, methods ...string) {
	segs := strings.Split(strings.TrimPrefix(template, "/"), "/")
	for i := range t.routes {
		if slices.Equal(t.routes[i].segments, segs) {
			t.routes[i].methods = append(t.routes[i].methods, methods...)
			return
		}
	}
	t.routes = append(t.routes, tableRoute{segments: segs, methods: methods})
}

// addServeMuxPattern records an http.ServeMux pattern ("GET /metrics"):
// such a GET route answers HEAD too. A pattern without a method is left
// out: it answers every method, so it never gets a 405.
func (t *routeTable) addServeMuxPattern(pattern string) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		return
	}
	methods := []string{method}
	if method == http.MethodGet {
		methods = append(methods, http.MethodHead)
	}
	t.add(strings.TrimSpace(path), methods...)
}

// allowed returns the methods served at path, sorted, or nil when no route
// matches it.
func (t *routeTable) allowed(path string) []string {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	var out []string
	for _, r := range t.routes {
		if matchSegments(r.segments, segs) {
			out = append(out, r.methods...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func matchSegments(template, path []string) bool {
	if len(template) != len(path) {
		return false
	}
	for i, s := range template {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			if path[i] == "" {
				return false
			}
			continue
		}
		if s != path[i] {
			return false
		}
	}
	return true
}
