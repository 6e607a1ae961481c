// Package grafana builds directoryd's Grafana dashboard as code, with
// Grafana's foundation SDK; `make generate` writes it to directoryd.json,
// which is what operators import. It reads only the metrics directoryd
// exposes and the series deploy/prometheus/rules.yml records, and imports
// nothing of the service.
package grafana

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// UID is the dashboard's stable identifier, so that links and provisioning
// survive a re-import.
const UID = "directoryd-overview"

// sel selects the chosen job and replicas; every raw series query uses it.
const sel = `job=~"$job", instance=~"$instance"`

// Dashboard builds the dashboard: one row per concern of the issue that
// asked for it (#25), with variables for the data source, the job and the
// replicas.
func Dashboard() (dashboard.Dashboard, error) {
	b := dashboard.NewDashboardBuilder("directoryd").
		Uid(UID).
		Description("directoryd, the gRPC and REST facade over Procore's Update Company User: traffic, latency, Procore's budget, upstream answers, reconciliations, the circuit breaker, shared state, batch operations and the audit trail. Alerts and their runbook: docs/runbook.md.").
		Tags([]string{"directoryd", "procore"}).
		Refresh("30s").
		Time("now-3h", "now").
		Timezone(common.TimeZoneBrowser).
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		WithVariable(dashboard.NewDatasourceVariableBuilder("datasource").
			Label("Data source").
			Type("prometheus")).
		WithVariable(queryVariable("job", "Job", "label_values(directoryd_upstream_circuit_state, job)")).
		WithVariable(queryVariable("instance", "Replica", `label_values(directoryd_upstream_circuit_state{job=~"$job"}, instance)`))

	for _, r := range rows() {
		b = b.WithRow(dashboard.NewRowBuilder(r.title))
		for _, p := range r.panels {
			b = b.WithPanel(p)
		}
	}
	d, err := b.Build()
	if err != nil {
		return dashboard.Dashboard{}, fmt.Errorf("dashboard: %w", err)
	}
	// Stable ids in layout order (from 1: 0 is no id), so that a link to
	// a panel (?viewPanel=) survives regeneration.
	for i, p := range d.Panels {
		id := uint32(i + 1)
		switch {
		case p.Panel != nil:
			p.Panel.Id = &id
		case p.RowPanel != nil:
			p.RowPanel.Id = id
		}
	}
	return d, nil
}

// row is a titled group of panels.
type row struct {
	title  string
	panels []cog.Builder[dashboard.Panel]
}

func rows() []row {
	return []row{
		{"Traffic and errors (gRPC and REST)", []cog.Builder[dashboard.Panel]{
			series("Calls by method and code", "Every call, REST included: the gateway calls the gRPC server in process, so a REST call is counted under its RPC's method.", "reqps",
				q(`sum by (grpc_method, grpc_code) (directoryd:grpc_server_handled:rate5m{`+sel+`})`, "{{grpc_method}} {{grpc_code}}")),
			series("Errors by code", "Calls that did not end OK, by gRPC code (REST: the HTTP status the gateway mapped it to).", "reqps",
				q(`sum by (grpc_method, grpc_code) (directoryd:grpc_server_handled:rate5m{`+sel+`, grpc_code!="OK"})`, "{{grpc_method}} {{grpc_code}}")),
			series("Server-side failure ratio", "Share of calls failing on the server's side (UNAVAILABLE, INTERNAL, DEADLINE_EXCEEDED, UNKNOWN, UNIMPLEMENTED, DATA_LOSS), fleet-wide; DirectorydCallsFailing fires above 5%.", "percentunit",
				q(`directoryd:grpc_server_errors:ratio_rate5m{job=~"$job"}`, "{{job}}")),
		}},
		{"Latency", []cog.Builder[dashboard.Panel]{
			series("p50 by method", "Median handling time of a call, REST included.", "s",
				q(`histogram_quantile(0.5, sum by (grpc_method, le) (directoryd:grpc_server_handling_seconds_bucket:rate5m{`+sel+`}))`, "{{grpc_method}}")),
			series("p99 by method", "99th percentile handling time of a call, REST included.", "s",
				q(`histogram_quantile(0.99, sum by (grpc_method, le) (directoryd:grpc_server_handling_seconds_bucket:rate5m{`+sel+`}))`, "{{grpc_method}}")),
			series("Procore request p99", "99th percentile latency of one HTTP request to Procore.", "s",
				q(`histogram_quantile(0.99, sum by (method, le) (rate(directoryd_upstream_request_duration_seconds_bucket{`+sel+`}[$__rate_interval])))`, "{{method}}")),
		}},
		{"Procore's budget", []cog.Builder[dashboard.Panel]{
			series("Remaining per credential", "Requests left in Procore's rate-limit window, as last reported (the lowest any replica saw).", "short",
				q(`min by (credential) (directoryd_upstream_rate_limit_remaining{`+sel+`})`, "{{credential}} remaining"),
				q(`max by (credential) (directoryd_upstream_rate_limit_limit{`+sel+`})`, "{{credential}} limit")),
			series("Share left", "Remaining / limit while the window lasts; DirectorydProcoreBudgetLow fires below 10%, DirectorydProcoreBudgetSpent at 0.", "percentunit",
				q(`directoryd:upstream_rate_limit_remaining:ratio{job=~"$job"}`, "{{credential}}")),
			series("Time to reset", "Seconds until Procore's current window ends (X-Rate-Limit-Reset).", "s",
				q(`max by (credential) (directoryd_upstream_rate_limit_reset_timestamp_seconds{`+sel+`}) - time()`, "{{credential}}")),
			series("Procore requests per call", "Requests one call made to Procore (retries, the required-fields GET and auto's second PATCH included): the budget an update costs.", "short",
				q(`directoryd:upstream_requests_per_call:ratio_rate5m{job=~"$job"}`, "{{grpc_method}}")),
		}},
		{"Procore's answers and retries", []cog.Builder[dashboard.Panel]{
			series("Requests to Procore by status", "HTTP status of each request to Procore (0: no answer). Any 429 means the budget sharing failed: DirectorydUpstreamRateLimited.", "reqps",
				q(`sum by (method, code) (directoryd:upstream_requests:rate5m{`+sel+`})`, "{{method}} {{code}}")),
			series("Retries", "Requests to Procore that repeated an earlier attempt.", "reqps",
				q(`sum by (method, route) (rate(directoryd_upstream_retries_total{`+sel+`}[$__rate_interval]))`, "{{method}} {{route}}")),
			series("Token refreshes", "Access tokens replaced after Procore answered 401, by result.", "short",
				q(`sum by (result) (increase(directoryd_upstream_token_refreshes_total{`+sel+`}[$__rate_interval]))`, "{{result}}")),
		}},
		{"Reconciliations", []cog.Builder[dashboard.Panel]{
			series("Reconciliations by result", "PATCHes whose outcome was unknown, by what reading the user back showed. unknown: the caller got UPSTREAM_OUTCOME_UNKNOWN (DirectorydOutcomeUnknown).", "short",
				q(`sum by (result) (increase(directoryd_update_reconciliations_total{`+sel+`}[$__rate_interval]))`, "{{result}}")),
			series("Idempotent replays", "Repeated request_ids answered with their first answer, nothing sent to Procore.", "reqps",
				q(`sum(rate(directoryd_update_idempotent_replays_total{`+sel+`}[$__rate_interval]))`, "replays")),
		}},
		{"Circuit breaker", []cog.Builder[dashboard.Panel]{
			state("Breaker state per replica", "0 closed, 1 half-open, 2 open (calls fail fast with UNAVAILABLE, UPSTREAM_CIRCUIT_OPEN): DirectorydCircuitOpen.",
				[]dashboard.ValueMapping{valueText("0", "closed", "green"), valueText("1", "half-open", "orange"), valueText("2", "open", "red")},
				q(`max by (instance) (directoryd_upstream_circuit_state{`+sel+`})`, "{{instance}}")),
			series("Breaker transitions", "State changes, by the state entered.", "short",
				q(`sum by (state) (increase(directoryd_upstream_circuit_transitions_total{`+sel+`}[$__rate_interval]))`, "{{state}}")),
		}},
		{"Replicas and shared state", []cog.Builder[dashboard.Panel]{
			state("Shared state (Redis) up per replica", "1 while the fleet's Redis answers; 0: the replica serves with local state (DirectorydSharedStateDegraded). Absent without --redis-url.",
				[]dashboard.ValueMapping{valueText("0", "local (degraded)", "red"), valueText("1", "shared", "green")},
				q(`min by (instance) (directoryd_shared_state_up{`+sel+`})`, "{{instance}}")),
			state("Replicas scraped", "Prometheus's up: 0 is a replica it cannot scrape (DirectorydReplicaDown).",
				[]dashboard.ValueMapping{valueText("0", "down", "red"), valueText("1", "up", "green")},
				q(`up{`+sel+`}`, "{{instance}}")),
		}},
		{"Batch operations", []cog.Builder[dashboard.Panel]{
			series("Batch operations in flight", "Batch operations with a chunk running, per replica.", "short",
				q(`sum by (instance) (directoryd_batch_operations_in_flight{`+sel+`})`, "{{instance}}")),
			series("Batch chunks queued", "Chunks submitted and not done, claimed or not: the fleet's shared queue (every replica reports the same one: max) and the replicas' local queues (summed). Chunks queued with nothing in flight are chunks nobody claims (DirectorydBatchNoProgress).", "short",
				q(`max(directoryd_batch_chunks_queued{`+sel+`, queue="shared"})`, "shared"),
				q(`sum(directoryd_batch_chunks_queued{`+sel+`, queue="local"})`, "local")),
			series("Batch items finished by result", "Items of batch operations that settled, by result (succeeded, failed): their progress.", "short",
				q(`sum by (result) (rate(directoryd_batch_items_total{`+sel+`}[$__rate_interval]))`, "{{result}}")),
			series("Time since a batch item last finished", "With chunks queued or operations in flight, a growing line is a batch making no progress (DirectorydBatchNoProgress).", "s",
				q(`time() - max(directoryd_batch_last_progress_timestamp_seconds{`+sel+`})`, "since last progress")),
		}},
		{"Audit trail", []cog.Builder[dashboard.Panel]{
			series("Audit events lost", "Audit events a sink could not take; any is a gap in the audit trail (DirectorydAuditEventsLost).", "short",
				q(`sum by (sink) (increase(directoryd_audit_events_lost_total{`+sel+`}[$__rate_interval]))`, "{{sink}}")),
		}},
	}
}

// datasource is the data source the datasource variable chose.
func datasource() common.DataSourceRef {
	typ, uid := "prometheus", "${datasource}"
	return common.DataSourceRef{Type: &typ, Uid: &uid}
}

func queryVariable(name, label, query string) *dashboard.QueryVariableBuilder {
	return dashboard.NewQueryVariableBuilder(name).
		Label(label).
		Datasource(datasource()).
		Query(dashboard.StringOrMap{String: &query}).
		Definition(query).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc).
		Multi(true).
		IncludeAll(true).
		AllValue(".*")
}

// q is one PromQL query and its legend.
func q(expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Expr(expr).LegendFormat(legend).Range()
}

func series(title, description, unit string, queries ...*prometheus.DataqueryBuilder) *timeseries.PanelBuilder {
	p := timeseries.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(datasource()).
		Unit(unit).
		Height(8).
		Span(8).
		FillOpacity(10)
	for _, query := range queries {
		p = p.WithTarget(query)
	}
	return p
}

// state is a panel of a gauge with a few named values, shown as the last
// value of each series.
func state(title, description string, mappings []dashboard.ValueMapping, query *prometheus.DataqueryBuilder) *stat.PanelBuilder {
	return stat.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(datasource()).
		Height(8).
		Span(8).
		Mappings(mappings).
		ColorMode(common.BigValueColorModeBackground).
		GraphMode(common.BigValueGraphModeArea).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"})).
		WithTarget(query)
}

// valueText maps one value of a state gauge to a name and a colour.
func valueText(value, text, color string) dashboard.ValueMapping {
	return dashboard.ValueMapping{ValueMap: &dashboard.ValueMap{
		Type:    dashboard.MappingTypeValueToText,
		Options: map[string]dashboard.ValueMappingResult{value: {Text: &text, Color: &color}},
	}}
}
