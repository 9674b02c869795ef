package prune_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/changebank/anonuser/shared/metrics"
	"github.com/changebank/anonuser/shared/prune"
)

func TestWriteEMF(t *testing.T) {
	var buf bytes.Buffer
	s := prune.Summary{Matched: 7, Deleted: 5, EmailsReleased: 2, RemainingAnonymous: 9, PendingConversions: 1, Converted: 3, FusionAuthCalls: 11,
		Dropped: map[string]int64{"watchSeconds": 40, "watchCount": 6}}
	at := time.UnixMilli(1700000000000)
	if err := prune.WriteEMF(&buf, s, at); err != nil {
		t.Fatal(err)
	}
	if bytes.Count(buf.Bytes(), []byte("\n")) != 1 {
		t.Fatalf("EMF output is not one line: %q", buf.String())
	}
	var line struct {
		AWS struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
		Function            string
		Deleted             int64
		Matched             int64
		DroppedWatchCount   int64
		DroppedWatchSeconds int64
	}
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	if line.AWS.Timestamp != 1700000000000 || len(line.AWS.CloudWatchMetrics) != 1 || line.AWS.CloudWatchMetrics[0].Namespace != metrics.Namespace {
		t.Fatalf("_aws=%+v", line.AWS)
	}
	names := map[string]bool{}
	for _, m := range line.AWS.CloudWatchMetrics[0].Metrics {
		names[m.Name] = m.Unit == "Count"
	}
	for _, want := range []string{"Matched", "Deleted", "EmailsReleased", "RemainingAnonymous", "PendingConversions", "Converted", "DroppedWatchCount", "DroppedWatchSeconds"} {
		if !names[want] {
			t.Errorf("metric %s missing or not a Count", want)
		}
	}
	// The line declares exactly prune.Metrics, with their dimensions: what the dashboard
	// and the alarms in template.yaml are checked against.
	var declared []string
	for _, m := range prune.Metrics() {
		declared = append(declared, m.Name)
		if !slices.Equal(slices.Sorted(maps.Keys(m.Dimensions)), slices.Sorted(slices.Values(line.AWS.CloudWatchMetrics[0].Dimensions[0]))) || !slices.Contains(m.Dimensions[metrics.DimFunction], line.Function) {
			t.Errorf("prune.Metrics declares %s with %v, the line has %v", m.Name, m.Dimensions, line.AWS.CloudWatchMetrics[0].Dimensions)
		}
	}
	if got := slices.Sorted(maps.Keys(names)); !slices.Equal(got, slices.Sorted(slices.Values(declared))) {
		t.Errorf("the line declares %v, prune.Metrics %v", got, declared)
	}
	if line.Deleted != 5 || line.Matched != 7 || line.Function != "prune" || line.DroppedWatchCount != 6 || line.DroppedWatchSeconds != 40 {
		t.Errorf("values: %s", buf.Bytes())
	}
}
