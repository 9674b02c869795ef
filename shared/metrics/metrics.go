// Package metrics writes CloudWatch metrics as Embedded Metric Format (EMF): a JSON log
// line with an "_aws" member that CloudWatch Logs turns into metrics as Lambda ships
// stdout, with no PutMetricData call and no extra permission. The functions log as JSON
// (log/slog), so a metric is one more log line, or attributes of one.
package metrics

import (
	"context"
	"log/slog"
	"slices"
	"time"
)

// Namespace is the CloudWatch namespace of every metric the functions emit.
const Namespace = "AnonymousUsers"

// DimFunction is the dimension every metric carries: the Lambda function that emitted it.
const DimFunction = "Function"

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

// KeepMetrics returns a handler that passes records of level and above on to next, and
// every record that is an EMF record (one with an "_aws" attribute) whatever its level:
// a function's metrics must not depend on how much it logs (LOG_LEVEL=warn still counts
// each Info step). next is not asked whether a level is enabled.
func KeepMetrics(next slog.Handler, level slog.Leveler) slog.Handler {
	return keepMetrics{next: next, level: level}
}

type keepMetrics struct {
	next   slog.Handler
	level  slog.Leveler
	hasEMF bool // an "_aws" attribute was added with WithAttrs
}

// Enabled is true at every level: whether a record is kept depends on its attributes.
func (h keepMetrics) Enabled(context.Context, slog.Level) bool { return true }

func (h keepMetrics) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= h.level.Level() || h.hasEMF || isEMF(r) {
		return h.next.Handle(ctx, r)
	}
	return nil
}

func (h keepMetrics) WithAttrs(as []slog.Attr) slog.Handler {
	h.hasEMF = h.hasEMF || slices.ContainsFunc(as, func(a slog.Attr) bool { return a.Key == "_aws" })
	h.next = h.next.WithAttrs(as)
	return h
}

func (h keepMetrics) WithGroup(name string) slog.Handler {
	h.next = h.next.WithGroup(name)
	return h
}

// isEMF reports whether r carries an EMF directive (an "_aws" attribute at its top level).
func isEMF(r slog.Record) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = a.Key == "_aws"
		return !found
	})
	return found
}
