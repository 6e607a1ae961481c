// Command generate writes deploy's generated files: the Grafana dashboard's
// JSON and the PrometheusRule manifest. scripts/generate.sh runs it from
// deploy/ (`go run ./internal/generate`); running it twice changes nothing.
package main

import (
	"fmt"
	"os"

	"github.com/procore-directory/procore-directory/deploy/grafana"
	"github.com/procore-directory/procore-directory/deploy/prometheus"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "generate:", err)
		os.Exit(1)
	}
}

func run() error {
	dash, err := grafana.JSON()
	if err != nil {
		return err
	}
	if err := os.WriteFile(grafana.File, dash, 0o644); err != nil {
		return fmt.Errorf("write dashboard: %w", err)
	}
	rules, err := os.ReadFile(prometheus.RulesFile)
	if err != nil {
		return fmt.Errorf("read rules: %w", err)
	}
	if err := os.WriteFile(prometheus.ManifestFile, prometheus.Manifest(rules), 0o644); err != nil {
		return fmt.Errorf("write PrometheusRule: %w", err)
	}
	return nil
}
