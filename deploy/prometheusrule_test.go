package deploy

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/procore-directory/procore-directory/deploy/prometheus"
)

// prometheusRule is the Prometheus Operator's PrometheusRule
// (monitoring.coreos.com/v1), the fields it defines, so that the strict
// decoding refuses what the operator's schema would (its Go types would
// bring the operator's module in for five structs).
type prometheusRule struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              ruleFile `json:"spec"`
}

// ruleFile is Prometheus's rule file: the PrometheusRule spec, and
// prometheus/rules.yml.
type ruleFile struct {
	Groups []struct {
		Name     string `json:"name"`
		Interval string `json:"interval,omitempty"`
		Limit    int    `json:"limit,omitempty"`
		Rules    []struct {
			Record        string            `json:"record,omitempty"`
			Alert         string            `json:"alert,omitempty"`
			Expr          string            `json:"expr"`
			For           string            `json:"for,omitempty"`
			KeepFiringFor string            `json:"keep_firing_for,omitempty"`
			Labels        map[string]string `json:"labels,omitempty"`
			Annotations   map[string]string `json:"annotations,omitempty"`
		} `json:"rules"`
	} `json:"groups"`
}

// readRuleFile decodes prometheus/rules.yml strictly.
func readRuleFile(t *testing.T) ruleFile {
	t.Helper()
	data, err := os.ReadFile(prometheus.RulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var file ruleFile
	if err := yaml.UnmarshalStrict(data, &file); err != nil {
		t.Fatalf("%s: %v", prometheus.RulesFile, err)
	}
	return file
}

// TestPrometheusRuleIsTheRulesFile: the PrometheusRule manifest is the one
// `make generate` makes from prometheus/rules.yml (so the two cannot
// drift), and its spec decodes to the same rules.
func TestPrometheusRuleIsTheRulesFile(t *testing.T) {
	rules, err := os.ReadFile(prometheus.RulesFile)
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := os.ReadFile(prometheus.ManifestFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(manifest, prometheus.Manifest(rules)) {
		t.Fatalf("%s is stale: run `make generate`", prometheus.ManifestFile)
	}
	var file ruleFile
	if err := yaml.UnmarshalStrict(rules, &file); err != nil {
		t.Fatalf("%s: %v", prometheus.RulesFile, err)
	}
	pr := find[*prometheusRule](t, decodeAll(t), "PrometheusRule", "directoryd")
	if !reflect.DeepEqual(pr.Spec, file) {
		t.Errorf("the PrometheusRule's spec differs from %s", prometheus.RulesFile)
	}
	if len(file.Groups) != 2 {
		t.Errorf("%d rule groups, want recording and alerts", len(file.Groups))
	}
	runbook, err := os.ReadFile("../docs/runbook.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			// Each alert links to its own section of the runbook.
			if !bytes.Contains(runbook, []byte("\n## "+r.Alert+"\n")) ||
				!strings.HasSuffix(r.Labels["runbook_url"], "/docs/runbook.md#"+strings.ToLower(r.Alert)) {
				t.Errorf("%s: runbook_url %q, want docs/runbook.md#%s, a section of the runbook", r.Alert, r.Labels["runbook_url"], strings.ToLower(r.Alert))
			}
			if sev := r.Labels["severity"]; sev != "critical" && sev != "warning" {
				t.Errorf("%s: severity %q", r.Alert, sev)
			}
			if r.Labels["runbook_url"] == "" || r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: needs runbook_url, summary and description", r.Alert)
			}
		}
	}
}

// TestEveryAlertHasFiringAndSilentCases: prometheus/rules_test.yml (which
// CI runs with `promtool test rules`) has, for every alert, a case where it
// fires and one where it stays silent.
func TestEveryAlertHasFiringAndSilentCases(t *testing.T) {
	file := readRuleFile(t)
	data, err := os.ReadFile("prometheus/rules_test.yml")
	if err != nil {
		t.Fatal(err)
	}
	var tests struct {
		Tests []struct {
			AlertRuleTest []struct {
				Alertname string `json:"alertname"`
				ExpAlerts []any  `json:"exp_alerts"`
			} `json:"alert_rule_test"`
		} `json:"tests"`
	}
	if err := yaml.Unmarshal(data, &tests); err != nil {
		t.Fatal(err)
	}
	firing, silent := map[string]bool{}, map[string]bool{}
	for _, tc := range tests.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				firing[a.Alertname] = true
			} else {
				silent[a.Alertname] = true
			}
		}
	}
	alerts := 0
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			alerts++
			if !firing[r.Alert] || !silent[r.Alert] {
				t.Errorf("%s: firing case %v, silent case %v; want both", r.Alert, firing[r.Alert], silent[r.Alert])
			}
		}
	}
	if alerts < 10 {
		t.Errorf("%d alerts", alerts)
	}
}
