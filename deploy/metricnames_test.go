package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/procore-directory/procore-directory/deploy/grafana"
	"github.com/procore-directory/procore-directory/deploy/prometheus"
)

// targetLabels are the labels Prometheus adds to every scraped series:
// the service cannot expose them, and every query may use them.
var targetLabels = []string{"job", "instance"}

// scrapeGenerated are series Prometheus makes itself for each target.
var scrapeGenerated = map[string]bool{"up": true}

// pending are metrics the dashboard and the rules already use but another
// piece of work adds: name -> (what adds it, its labels). An entry must be
// deleted when the metric appears: the test fails if a pending metric is
// exposed, so no entry outlives its reason.
var pending = map[string]struct {
	why    string
	labels []string
}{}

// TestDashboardAndRulesNameExposedMetrics starts directoryd (a real
// process, on loopback, against the Procore emulator and a Redis of its
// own), makes calls of every kind, scrapes /metrics, and fails if the
// dashboard or a rule names a metric or a label directoryd does not
// expose.
func TestDashboardAndRulesNameExposedMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs directoryd")
	}
	exposed := scrapeAfterCalls(t)

	for name, p := range pending {
		if _, ok := exposed[name]; ok {
			t.Errorf("%s is exposed now (%s): delete its entry from pending", name, p.why)
		}
	}

	recorded, queries := readRules(t, exposed)
	queries = append(queries, dashboardQueries(t)...)
	if len(queries) < 30 {
		t.Fatalf("only %d queries found", len(queries))
	}
	for _, q := range queries {
		for _, problem := range checkQuery(q.expr, exposed, recorded) {
			t.Errorf("%s: %s\n\t%s", q.where, problem, q.expr)
		}
	}
}

// query is one PromQL expression and where it is.
type query struct{ where, expr string }

// labelsOf maps a series name (histogram series with their _bucket, _sum
// or _count suffix, as scraped) to its label names.
type labelsOf map[string]map[string]bool

// checkQuery reports the metrics and labels expr names that are not
// exposed. A selector's matchers must be labels of its metric (or target
// labels); grouping and matching labels must be labels of some metric of
// the expression.
func checkQuery(expr string, exposed, recorded labelsOf) []string {
	// Grafana's interval variables are not PromQL; any duration stands in.
	for _, v := range []string{"$__rate_interval", "$__interval", "$__range"} {
		expr = strings.ReplaceAll(expr, v, "5m")
	}
	if m := labelValuesRE.FindStringSubmatch(expr); m != nil {
		// A variable's label_values(selector, label).
		problems := checkQuery(m[1], exposed, recorded)
		if !known(m[2], namesIn(m[1]), exposed, recorded) {
			problems = append(problems, fmt.Sprintf("label_values of label %q, which %s does not have", m[2], m[1]))
		}
		return problems
	}
	ast, err := promql.ParseExpr(expr)
	if err != nil {
		return []string{fmt.Sprintf("not PromQL: %v", err)}
	}
	var problems []string
	names := namesIn(expr)
	parser.Inspect(ast, func(node parser.Node, _ []parser.Node) error {
		switch n := node.(type) {
		case *parser.VectorSelector:
			if _, ok := labelsFor(n.Name, exposed, recorded); !ok {
				problems = append(problems, fmt.Sprintf("metric %s is not exposed", n.Name))
				return nil
			}
			for _, m := range n.LabelMatchers {
				if m.Name != "__name__" && !known(m.Name, []string{n.Name}, exposed, recorded) {
					problems = append(problems, fmt.Sprintf("metric %s has no label %q", n.Name, m.Name))
				}
			}
		case *parser.AggregateExpr:
			for _, l := range n.Grouping {
				if !known(l, names, exposed, recorded) {
					problems = append(problems, fmt.Sprintf("grouping by %q, which no metric of the expression has", l))
				}
			}
		case *parser.BinaryExpr:
			if n.VectorMatching != nil {
				for _, l := range append(slices.Clone(n.VectorMatching.MatchingLabels), n.VectorMatching.Include...) {
					if !known(l, names, exposed, recorded) {
						problems = append(problems, fmt.Sprintf("matching on %q, which no metric of the expression has", l))
					}
				}
			}
		}
		return nil
	})
	return problems
}

// promql parses as Prometheus does (no experimental functions).
var promql = parser.NewParser(parser.Options{})

var labelValuesRE = regexp.MustCompile(`^label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$`)

// namesIn lists the metric names of an expression.
func namesIn(expr string) []string {
	ast, err := promql.ParseExpr(expr)
	if err != nil {
		return nil
	}
	var names []string
	parser.Inspect(ast, func(node parser.Node, _ []parser.Node) error {
		if vs, ok := node.(*parser.VectorSelector); ok {
			names = append(names, vs.Name)
		}
		return nil
	})
	return names
}

// labelsFor is the label set of a metric: scraped, recorded by a rule,
// made by Prometheus, or pending.
func labelsFor(name string, exposed, recorded labelsOf) (map[string]bool, bool) {
	if l, ok := exposed[name]; ok {
		return l, true
	}
	if l, ok := recorded[name]; ok {
		return l, true
	}
	if scrapeGenerated[name] {
		return map[string]bool{}, true
	}
	if p, ok := pending[name]; ok {
		l := map[string]bool{}
		for _, k := range p.labels {
			l[k] = true
		}
		return l, true
	}
	return nil, false
}

// known reports whether label is a target label or a label of one of
// names.
func known(label string, names []string, exposed, recorded labelsOf) bool {
	if slices.Contains(targetLabels, label) {
		return true
	}
	for _, n := range names {
		if l, ok := labelsFor(n, exposed, recorded); ok && l[label] {
			return true
		}
	}
	return false
}

// readRules returns the series the recording rules make (with the labels
// of the metrics they read, which bounds theirs) and every expression.
func readRules(t *testing.T, exposed labelsOf) (labelsOf, []query) {
	t.Helper()
	file := readRuleFile(t)
	recorded := labelsOf{}
	var queries []query
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			name := r.Alert
			if r.Record != "" {
				name = r.Record
				labels := map[string]bool{}
				for _, n := range namesIn(r.Expr) {
					have, _ := labelsFor(n, exposed, recorded)
					for l := range have {
						labels[l] = true
					}
				}
				recorded[r.Record] = labels
			}
			queries = append(queries, query{where: prometheus.RulesFile + " " + name, expr: r.Expr})
		}
	}
	return recorded, queries
}

// dashboardQueries returns every PromQL query of the committed dashboard:
// panel targets and variable queries.
func dashboardQueries(t *testing.T) []query {
	t.Helper()
	data, err := os.ReadFile(grafana.File)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	var queries []query
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			queries = append(queries, query{where: grafana.File + " panel " + p.Title, expr: tg.Expr})
		}
	}
	for _, v := range d.Templating.List {
		if q, ok := v.Query.(string); ok && q != "" && q != "prometheus" {
			queries = append(queries, query{where: grafana.File + " variable " + v.Name, expr: q})
		}
	}
	return queries
}
