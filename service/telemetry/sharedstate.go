package telemetry

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// SharedStateGauge registers directoryd_shared_state_up and returns its
// setter, for the fleet's shared state (redisstate.WithStateChange). It
// is registered only when directoryd runs with --redis-url, so a replica
// without shared state does not report a store that is "down".
func (t *Telemetry) SharedStateGauge() (func(up bool), error) {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "directoryd_shared_state_up",
		Help: "1 while the fleet's shared state (Redis) answers; 0 while this replica serves with local state (degraded: budget split by estimate, locks and request_id records local).",
	})
	if err := t.Registry.Register(g); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return func(up bool) {
		if up {
			g.Set(1)
		} else {
			g.Set(0)
		}
	}, nil
}
