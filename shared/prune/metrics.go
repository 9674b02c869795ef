package prune

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/changebank/anonuser/shared/metrics"
)

// WriteEMF writes the summary as one CloudWatch Embedded Metric Format line: Lambda
// ships stdout to CloudWatch Logs, which turns the line into metrics with no
// PutMetricData call and no extra permission.
func WriteEMF(w io.Writer, s Summary, at time.Time) error {
	type count struct {
		name  string
		value int64
	}
	counts := []count{
		{"Reconciled", s.Reconciled},
		{"Matched", s.Matched},
		{"Deleted", s.Deleted},
		{"EmailsReleased", s.EmailsReleased},
		{"RemainingAnonymous", s.RemainingAnonymous},
		{"PendingConversions", s.PendingConversions},
		{"Converted", s.Converted},
		{"FusionAuthCalls", int64(s.FusionAuthCalls)},
	}
	for _, name := range slices.Sorted(maps.Keys(s.Dropped)) {
		counts = append(counts, count{DroppedMetric(name), s.Dropped[name]})
	}
	names := make([]string, 0, len(counts))
	line := map[string]any{"Function": "prune", "DryRun": fmt.Sprint(s.DryRun)}
	for _, m := range counts {
		names = append(names, m.name)
		line[m.name] = m.value
	}
	line["_aws"] = metrics.Directive(at, []string{"Function", "DryRun"}, names...)
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
