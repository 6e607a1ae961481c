package telemetry

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/procore-directory/procore-directory/service/apierr"
)

// outcomes counts what the service did about updates whose outcome was in
// doubt: how each read-back reconciliation ended, and how many repeated
// request_ids were answered from the idempotency store. It implements the
// core's Observer (service.Observer), so the core stays free of Prometheus;
// this package does not import the core, and service/server, which hands
// Metrics to service.WithObserver, is where the compiler checks that it does.
type outcomes struct {
	reconciliations *prometheus.CounterVec
	replays         prometheus.Counter
	// auditLost counts audit events a sink could not write
	// (service/audit.WithLost). Its name is what dashboards and alert
	// rules use: it never changes.
	auditLost *prometheus.CounterVec
}

// auditSinks are the audit sinks' names, the label values of
// directoryd_audit_events_lost_total.
var auditSinks = []string{"stderr", "file", "redis"}

func newOutcomes() outcomes {
	o := outcomes{
		reconciliations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "directoryd_update_reconciliations_total",
			Help: "PATCHes whose outcome was unknown, by what reading the user back showed: applied (OK), not_applied (ABORTED, UPSTREAM_NOT_APPLIED) or unknown (UPSTREAM_OUTCOME_UNKNOWN).",
		}, []string{"result"}),
		replays: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "directoryd_update_idempotent_replays_total",
			Help: "Updates answered with the first answer of their request_id, nothing sent to Procore.",
		}),
		auditLost: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "directoryd_audit_events_lost_total",
			Help: "Audit events a configured sink (stderr, file, redis) could not write; each is logged as \"audit event lost\" with its keys.",
		}, []string{"sink"}),
	}
	for _, s := range auditSinks {
		o.auditLost.WithLabelValues(s) // exported at 0 from the start
	}
	for _, r := range []string{apierr.OutcomeApplied, apierr.OutcomeNotApplied, apierr.OutcomeUnknown} {
		o.reconciliations.WithLabelValues(r) // exported at 0 from the start
	}
	return o
}

// Reconciled implements service.Observer.
func (o outcomes) Reconciled(result string) { o.reconciliations.WithLabelValues(result).Inc() }

// AuditEventLost counts one event sink could not write (service/audit's
// WithLost).
func (o outcomes) AuditEventLost(sink string) { o.auditLost.WithLabelValues(sink).Inc() }

// IdempotentReplay implements service.Observer.
func (o outcomes) IdempotentReplay() { o.replays.Inc() }
