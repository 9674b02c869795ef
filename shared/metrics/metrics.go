// Package metrics writes CloudWatch metrics as Embedded Metric Format (EMF): a JSON log
// line with an "_aws" member that CloudWatch Logs turns into metrics as Lambda ships
// stdout, with no PutMetricData call and no extra permission. The functions log as JSON
// (log/slog), so a metric is one more log line, or attributes of one.
package metrics

import "time"

// Namespace is the CloudWatch namespace of every metric the functions emit.
const Namespace = "AnonymousUsers"

// Dimension is one CloudWatch dimension of a metric: a name and its value on this line.
type Dimension struct {
	Name, Value string
}

// Spec is one metric a function emits: its name and the dimensions its lines carry, each
// with the values it takes. CloudWatch tells a metric by its name and its whole set of
// dimensions and values, so a dashboard or an alarm that names others finds no data.
type Spec struct {
	Name       string
	Dimensions map[string][]string
}

// Directive is the "_aws" member of an EMF line at `at`, declaring metrics (each a Count)
// with the dimension names dims; the line itself must carry each metric's value and
// each dimension's value as top-level members.
func Directive(at time.Time, dims []string, metrics ...string) map[string]any {
	defs := make([]map[string]string, 0, len(metrics))
	for _, m := range metrics {
		defs = append(defs, map[string]string{"Name": m, "Unit": "Count"})
	}
	return map[string]any{
		"Timestamp": at.UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  Namespace,
			"Dimensions": [][]string{dims},
			"Metrics":    defs,
		}},
	}
}

// Count returns log/slog attributes that make the log line they are added to an EMF
// record counting one of metric, with the given dimensions. Values must be nothing
// personal: they become CloudWatch dimensions, kept for 15 months.
func Count(metric string, at time.Time, dims ...Dimension) []any {
	names := make([]string, 0, len(dims))
	attrs := make([]any, 0, 2*len(dims)+4)
	for _, d := range dims {
		names = append(names, d.Name)
		attrs = append(attrs, d.Name, d.Value)
	}
	return append(attrs, metric, 1, "_aws", Directive(at, names, metric))
}
