package prune

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Namespace is the CloudWatch namespace of the prune metrics.
const Namespace = "AnonymousUsers"

// WriteEMF writes the summary as one CloudWatch Embedded Metric Format line: Lambda
// ships stdout to CloudWatch Logs, which turns the line into metrics with no
// PutMetricData call and no extra permission.
func WriteEMF(w io.Writer, s Summary, at time.Time) error {
	metrics := []struct {
		name  string
		value int64
	}{
		{"Reconciled", s.Reconciled},
		{"Matched", s.Matched},
		{"Deleted", s.Deleted},
		{"EmailsReleased", s.EmailsReleased},
		{"RemainingAnonymous", s.RemainingAnonymous},
		{"PendingConversions", s.PendingConversions},
		{"Converted", s.Converted},
		{"FusionAuthCalls", int64(s.FusionAuthCalls)},
	}
	defs := make([]map[string]string, 0, len(metrics))
	line := map[string]any{"Function": "prune", "DryRun": fmt.Sprint(s.DryRun)}
	for _, m := range metrics {
		defs = append(defs, map[string]string{"Name": m.name, "Unit": "Count"})
		line[m.name] = m.value
	}
	line["_aws"] = map[string]any{
		"Timestamp": at.UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  Namespace,
			"Dimensions": [][]string{{"Function", "DryRun"}},
			"Metrics":    defs,
		}},
	}
	b, err := json.Marshal(line)
	if err != nil {
		return fmt.Errorf("encode metrics: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
