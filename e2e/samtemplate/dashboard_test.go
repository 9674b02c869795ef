package samtemplate_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/changebank/anonuser/shared/metrics"
	"github.com/changebank/anonuser/shared/prune"
	"github.com/changebank/anonuser/shared/site"
)

// The dashboard and the alarms name metrics by namespace, name and every dimension with
// its value; CloudWatch shows nothing for one that is not emitted exactly so. These
// checks hold each against what the code declares it emits (site.FunnelMetrics,
// prune.Metrics) or what AWS publishes for the stack's own resources.

// metricRef is one metric a widget or an alarm names.
type metricRef struct {
	namespace, name string
	dims            map[string]string
}

func (m metricRef) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", m.namespace, m.name)
	for _, k := range slices.Sorted(maps.Keys(m.dims)) {
		fmt.Fprintf(&b, " %s=%s", k, m.dims[k])
	}
	return b.String()
}

// awsMetrics are the AWS metrics the dashboard and alarms may name, by namespace, each
// with the one dimension that ties it to a resource of the stack and the resource types
// it may name ("Url" metrics only exist for a function with a Function URL).
var awsMetrics = map[string]struct {
	names     []string
	dimension string
}{
	"AWS/Lambda":     {[]string{"Errors", "Throttles", "Duration", "Invocations", "Url5xxCount", "Url4xxCount", "UrlRequestLatency", "UrlRequestCount"}, "FunctionName"},
	"AWS/ApiGateway": {[]string{"5xx", "4xx", "Count", "Latency", "IntegrationLatency"}, "ApiId"},
}

// emitted are the metrics the code declares, in namespace metrics.Namespace.
func emitted() []metrics.Spec { return append(slices.Clone(site.FunnelMetrics), prune.Metrics()...) }

// checkMetricRef returns what is wrong with one named metric.
func checkMetricRef(st *stack, where string, m metricRef) []string {
	switch m.namespace {
	case metrics.Namespace:
		keys := slices.Sorted(maps.Keys(m.dims))
		for _, spec := range emitted() {
			if spec.Name != m.name || !slices.Equal(keys, slices.Sorted(maps.Keys(spec.Dimensions))) {
				continue
			}
			var out []string
			for k, v := range m.dims {
				if !slices.Contains(spec.Dimensions[k], v) {
					out = append(out, fmt.Sprintf("%s: %v: the code emits %s=%v, not %q", where, m, k, spec.Dimensions[k], v))
				}
			}
			return out
		}
		return []string{fmt.Sprintf("%s: %v: the code emits no %s with these dimensions (site.FunnelMetrics, prune.Metrics)", where, m, m.name)}
	default:
		aws, ok := awsMetrics[m.namespace]
		if !ok {
			return []string{fmt.Sprintf("%s: %v: namespace %q is neither the functions' nor a known AWS one", where, m, m.namespace)}
		}
		if !slices.Contains(aws.names, m.name) {
			return []string{fmt.Sprintf("%s: %v: %s publishes no %s", where, m, m.namespace, m.name)}
		}
		if len(m.dims) != 1 || m.dims[aws.dimension] == "" {
			return []string{fmt.Sprintf("%s: %v: want the one dimension %s", where, m, aws.dimension)}
		}
		id, ok := strings.CutPrefix(m.dims[aws.dimension], "Ref:")
		if !ok {
			return []string{fmt.Sprintf("%s: %v: %s is not a reference to a resource of the stack", where, m, aws.dimension)}
		}
		if aws.dimension == "ApiId" {
			if _, err := st.tmpl.GetServerlessHttpApiWithName(id); err != nil {
				return []string{fmt.Sprintf("%s: %v: %s is not an HTTP API of the stack", where, m, id)}
			}
			return nil
		}
		fn, err := st.function(id)
		if err != nil {
			return []string{fmt.Sprintf("%s: %v: %s is not a function of the stack", where, m, id)}
		}
		if strings.HasPrefix(m.name, "Url") && fn.FunctionUrlConfig == nil {
			return []string{fmt.Sprintf("%s: %v: %s has no Function URL", where, m, id)}
		}
		return nil
	}
}

// widget is what the checks read of a dashboard widget.
type widget struct {
	Type       string
	Properties struct {
		Title, Region, View string
		Stacked             bool
		Stat                string
		Period              int
		Metrics             [][]any
	}
}

// subVariable is a ${Name} of a !Sub string.
var subVariable = regexp.MustCompile(`\$\{([A-Za-z0-9:.]+)\}`)

// dashboardBody returns the dashboard's body as CloudFormation would render it, each
// ${Resource} written "Ref:Resource" and ${AWS::Region} "us-east-1".
func dashboardBody(st *stack) (string, []string) {
	dashboards := st.tmpl.GetAllCloudWatchDashboardResources()
	if len(dashboards) != 1 {
		return "", []string{fmt.Sprintf("dashboards = %d, want 1", len(dashboards))}
	}
	var problems []string
	for id, d := range dashboards {
		body, ok := strings.CutPrefix(d.DashboardBody, "Sub:")
		if !ok {
			return d.DashboardBody, nil
		}
		body = subVariable.ReplaceAllStringFunc(body, func(v string) string {
			name := subVariable.FindStringSubmatch(v)[1]
			switch {
			case name == "AWS::Region":
				return "us-east-1"
			case strings.HasPrefix(name, "AWS::"):
				return "pseudo"
			}
			if _, ok := st.tmpl.Resources[name]; !ok {
				problems = append(problems, fmt.Sprintf("%s: ${%s} is not a resource of the stack", id, name))
			}
			return "Ref:" + name
		})
		return body, problems
	}
	return "", nil
}

// expressionID is a metric id in a metric math expression (functions are upper case).
var expressionID = regexp.MustCompile(`\b[a-z][A-Za-z0-9_]*\b`)

// checkDashboard: the dashboard is JSON CloudWatch accepts in shape, every metric it names
// is emitted with those dimensions, every expression reads metrics of its widget, and it
// shows the funnel per day stacked, a conversion rate, the stubs prune counted, every
// funnel and prune metric, and errors and latency of every function.
func checkDashboard(st *stack) []string {
	body, problems := dashboardBody(st)
	if body == "" {
		return problems
	}
	var d struct{ Widgets []widget }
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		return append(problems, fmt.Sprintf("dashboard body is not JSON: %v", err))
	}
	named := map[string]bool{} // "namespace name" + " " + its Function or FunctionName and DryRun
	var funnelPerDay, rate bool
	for _, w := range d.Widgets {
		if w.Type != "metric" {
			continue
		}
		p := w.Properties
		where := fmt.Sprintf("widget %q", p.Title)
		if p.Region != "us-east-1" {
			problems = append(problems, fmt.Sprintf("%s: region %q, want ${AWS::Region}", where, p.Region))
		}
		if p.Period <= 0 || p.Period%60 != 0 {
			problems = append(problems, fmt.Sprintf("%s: period %d s, want a multiple of 60", where, p.Period))
		}
		ids := map[string]bool{}
		var expressions []string
		var refs []metricRef
		for i, row := range p.Metrics {
			m, opts, expr, err := metricRow(row)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: metric %d: %v", where, i, err))
				continue
			}
			if id, _ := opts["id"].(string); id != "" {
				ids[id] = true
			}
			if expr != "" {
				expressions = append(expressions, expr)
				continue
			}
			problems = append(problems, checkMetricRef(st, where, m)...)
			refs = append(refs, m)
			named[m.namespace+" "+m.name+" "+m.dims[metrics.DimFunction]+m.dims["FunctionName"]+m.dims[prune.DimDryRun]] = true
		}
		for _, e := range expressions {
			for _, id := range expressionID.FindAllString(e, -1) {
				if !ids[id] {
					problems = append(problems, fmt.Sprintf("%s: expression %q reads %s, which no metric of the widget is", where, e, id))
				}
			}
		}
		if p.Stacked && p.Period == 86400 && slices.ContainsFunc(refs, func(m metricRef) bool { return m.name == site.MetricStubCreated }) &&
			slices.ContainsFunc(refs, func(m metricRef) bool { return m.name == site.MetricConverted }) {
			funnelPerDay = true
		}
		if slices.ContainsFunc(expressions, func(e string) bool { return strings.Contains(e, "/") }) {
			rate = true
		}
	}
	if !funnelPerDay {
		problems = append(problems, "no stacked daily widget shows the funnel from StubCreated to Converted")
	}
	if !rate {
		problems = append(problems, "no widget computes a conversion rate")
	}
	for _, spec := range site.FunnelMetrics {
		if !slices.ContainsFunc(slices.Collect(maps.Keys(named)), func(k string) bool { return strings.HasPrefix(k, metrics.Namespace+" "+spec.Name+" ") }) {
			problems = append(problems, fmt.Sprintf("the dashboard does not show %s", spec.Name))
		}
	}
	for _, name := range []string{prune.MetricRemainingAnonymous, prune.MetricDeleted, prune.MetricEmailsReleased, prune.MetricReconciled, prune.DroppedMetric("watchCount")} {
		if !named[metrics.Namespace+" "+name+" "+prune.Function+"false"] {
			problems = append(problems, fmt.Sprintf("the dashboard does not show prune's %s of real runs (DryRun=false)", name))
		}
	}
	for _, sp := range specs {
		for _, name := range []string{"Errors", "Duration"} {
			if !named["AWS/Lambda "+name+" Ref:"+sp.id] {
				problems = append(problems, fmt.Sprintf("the dashboard does not show %s's %s", sp.id, name))
			}
		}
	}
	return problems
}

// metricRow reads one row of a widget's metrics: an expression ({"expression", "id"}) or
// [namespace, name, dimension, value, ..., {options}].
func metricRow(row []any) (m metricRef, opts map[string]any, expr string, err error) {
	if n := len(row); n > 0 {
		if o, ok := row[n-1].(map[string]any); ok {
			opts, row = o, row[:n-1]
		}
	}
	if len(row) == 0 {
		expr, _ = opts["expression"].(string)
		if expr == "" || opts["id"] == nil {
			return m, nil, "", fmt.Errorf("neither a metric nor an expression with an id: %v", opts)
		}
		return m, opts, expr, nil
	}
	if len(row) < 2 || len(row)%2 != 0 {
		return m, nil, "", fmt.Errorf("%v: want namespace, name and dimension pairs", row)
	}
	s := make([]string, len(row))
	for i, v := range row {
		str, ok := v.(string)
		if !ok {
			return m, nil, "", fmt.Errorf("%v: element %d is not a string", row, i)
		}
		s[i] = str
	}
	m = metricRef{namespace: s[0], name: s[1], dims: map[string]string{}}
	for i := 2; i < len(s); i += 2 {
		m.dims[s[i]] = s[i+1]
	}
	return m, opts, "", nil
}

// checkAlarms: each alarm's metric is emitted as named and it notifies the alarm topic;
// there is one on the pages' 5xx, the webhook's 5xx and dropped watches, and one that
// breaches when no prune run completed within a day and a bit.
func checkAlarms(st *stack) []string {
	var problems []string
	watched := map[string]bool{}
	for id, a := range st.tmpl.GetAllCloudWatchAlarmResources() {
		m := metricRef{namespace: fmt.Sprint(deref(a.Namespace)), name: fmt.Sprint(deref(a.MetricName)), dims: map[string]string{}}
		for _, d := range a.Dimensions {
			m.dims[d.Name] = d.Value
		}
		problems = append(problems, checkMetricRef(st, id, m)...)
		if !slices.Equal(a.AlarmActions, []string{"Ref:AlarmTopic"}) {
			problems = append(problems, fmt.Sprintf("%s: AlarmActions = %v, want [Ref:AlarmTopic]", id, a.AlarmActions))
		}
		var period int
		if a.Period != nil {
			period = *a.Period
		}
		if period <= 0 || period%60 != 0 {
			problems = append(problems, fmt.Sprintf("%s: Period = %d s, want a multiple of 60", id, period))
		}
		// PutMetricAlarm: at most a day of evaluation under an hour's period, 7 days above.
		if limit := map[bool]int{true: 86400, false: 7 * 86400}[period < 3600]; period*a.EvaluationPeriods > limit {
			problems = append(problems, fmt.Sprintf("%s: evaluates %d s, more than CloudWatch's %d", id, period*a.EvaluationPeriods, limit))
		}
		watched[m.namespace+" "+m.name] = true
		if m.name == prune.MetricCompleted {
			problems = append(problems, checkPruneAlarm(id, a.TreatMissingData, a.ComparisonOperator, a.Threshold, period, a.EvaluationPeriods, a.DatapointsToAlarm, m)...)
		}
	}
	for _, want := range []string{"AWS/ApiGateway 5xx", "AWS/Lambda Url5xxCount", metrics.Namespace + " " + site.MetricWatchDropped, metrics.Namespace + " " + prune.MetricCompleted} {
		if !watched[want] {
			problems = append(problems, fmt.Sprintf("no alarm on %s", want))
		}
	}
	return problems
}

// checkPruneAlarm: prune runs daily and its line says Completed 1 only for a complete run;
// the alarm must treat an hour without a line as breaching, look back more than a day so
// a run's time of day moving a little does not alarm, and watch real runs only.
func checkPruneAlarm(id string, missing *string, op string, threshold *float64, period, periods int, toAlarm *int, m metricRef) []string {
	var out []string
	if deref(missing) != "breaching" {
		out = append(out, fmt.Sprintf("%s: TreatMissingData = %v, want breaching: a prune that never runs writes no line", id, deref(missing)))
	}
	if op != "LessThanThreshold" || threshold == nil || *threshold != 1 {
		out = append(out, fmt.Sprintf("%s: %s %v, want LessThanThreshold 1", id, op, deref(threshold)))
	}
	if window := period * periods; window <= 86400 || window > 2*86400 {
		out = append(out, fmt.Sprintf("%s: looks back %d s, want more than a day and at most two", id, window))
	}
	if toAlarm != nil && *toAlarm != periods {
		out = append(out, fmt.Sprintf("%s: DatapointsToAlarm %d of %d: one completed run in the window must keep it OK", id, *toAlarm, periods))
	}
	if m.dims[prune.DimDryRun] != "false" {
		out = append(out, fmt.Sprintf("%s: %v: a dry run must not count", id, m))
	}
	return out
}

// TestOperationsDocNamesEveryMetric: the metrics table in docs/operations.md names each
// metric the code emits, so a new one is documented where the dashboard is.
func TestOperationsDocNamesEveryMetric(t *testing.T) {
	st := mustStack(t)
	doc, err := os.ReadFile(filepath.Join(st.root, "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range emitted() {
		if !strings.Contains(string(doc), "`"+m.Name+"`") {
			t.Errorf("docs/operations.md does not name the metric `%s`", m.Name)
		}
	}
}
