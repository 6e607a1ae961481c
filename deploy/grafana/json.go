package grafana

import (
	"encoding/json"
	"fmt"
)

// File is where `make generate` writes the dashboard, relative to deploy/.
const File = "grafana/directoryd.json"

// JSON is the dashboard as Grafana imports it: indented, with a final
// newline, the same bytes on every run.
func JSON() ([]byte, error) {
	d, err := Dashboard()
	if err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("dashboard JSON: %w", err)
	}
	return append(out, '\n'), nil
}
