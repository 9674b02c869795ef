package prune

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/metrics"
)

// The metrics of a prune run's summary, all with the dimensions Function (prune) and
// DryRun ("true" or "false").
const (
	MetricReconciled         = "Reconciled"         // conversions prune completed
	MetricMatched            = "Matched"            // stale stubs the run found
	MetricDeleted            = "Deleted"            // stale stubs deleted
	MetricEmailsReleased     = "EmailsReleased"     // unproven addresses released
	MetricRemainingAnonymous = "RemainingAnonymous" // anonymous users left after the run: the stubs alive
	MetricPendingConversions = "PendingConversions" // stubs waiting for their email's proof
	MetricConverted          = "Converted"          // converted users in the tenant
	MetricFusionAuthCalls    = "FusionAuthCalls"    // the run's FusionAuth round trips
	MetricCompleted          = "Completed"          // 1 when the run did all it found to do; 0 when it stopped at its cap, its deadline or an error
)

// The dimensions of prune's metrics: metrics.DimFunction, always Function, and DimDryRun.
const (
	Function  = "prune"  // the Function dimension's value
	DimDryRun = "DryRun" // "true" or "false"
)

// emfCount is one metric of the summary's line and its value.
type emfCount struct {
	name  string
	value int64
}

func summaryCounts(s Summary) []emfCount {
	var completed int64
	if s.Complete {
		completed = 1
	}
	counts := []emfCount{
		{MetricReconciled, s.Reconciled},
		{MetricMatched, s.Matched},
		{MetricDeleted, s.Deleted},
		{MetricEmailsReleased, s.EmailsReleased},
		{MetricRemainingAnonymous, s.RemainingAnonymous},
		{MetricPendingConversions, s.PendingConversions},
		{MetricConverted, s.Converted},
		{MetricFusionAuthCalls, int64(s.FusionAuthCalls)},
		{MetricCompleted, completed},
	}
	for _, name := range slices.Sorted(maps.Keys(s.Dropped)) {
		counts = append(counts, emfCount{DroppedMetric(name), s.Dropped[name]})
	}
	return counts
}

// Metrics are every metric WriteEMF emits, each with its dimensions: the summary's
// counts and one Dropped metric per key of the profile a visitor accrues.
func Metrics() []metrics.Spec {
	var out []metrics.Spec
	for _, c := range summaryCounts(Summary{Dropped: anon.Totals()}) {
		out = append(out, metrics.Spec{Name: c.name, Dimensions: map[string][]string{metrics.DimFunction: {Function}, DimDryRun: {"true", "false"}}})
	}
	return out
}

// WriteEMF writes the summary as one CloudWatch Embedded Metric Format line: Lambda
// ships stdout to CloudWatch Logs, which turns the line into metrics with no
// PutMetricData call and no extra permission.
func WriteEMF(w io.Writer, s Summary, at time.Time) error {
	counts := summaryCounts(s)
	names := make([]string, 0, len(counts))
	line := map[string]any{metrics.DimFunction: Function, DimDryRun: fmt.Sprint(s.DryRun)}
	for _, m := range counts {
		names = append(names, m.name)
		line[m.name] = m.value
	}
	line["_aws"] = metrics.Directive(at, []string{metrics.DimFunction, DimDryRun}, names...)
	b, err := json.Marshal(line)
	if err != nil {
		return fmt.Errorf("encode metrics: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// DroppedMetric names the metric of what deleted stubs held of a profile key:
// DroppedWatchCount for watchCount.
func DroppedMetric(key string) string {
	return "Dropped" + strings.ToUpper(key[:1]) + key[1:]
}
