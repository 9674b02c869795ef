package metrics_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/changebank/anonuser/shared/metrics"
)

// TestCountIsAnEMFLine logs a count through log/slog's JSON handler, as the functions
// do, and reads it back as CloudWatch would: the directive names the metric and its
// dimensions, and the line carries their values.
func TestCountIsAnEMFLine(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	at := time.UnixMilli(1_700_000_000_123)
	log.Warn("client over its limit", metrics.Count("ClientOverLimit", at, metrics.Dimension{Name: "Limit", Value: "stub"}, metrics.Dimension{Name: "Function", Value: "video"})...)
	var line struct {
		Limit           string
		Function        string
		ClientOverLimit int
		AWS             struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
	}
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("%v\n%s", err, buf.Bytes())
	}
	if line.Limit != "stub" || line.Function != "video" || line.ClientOverLimit != 1 || line.AWS.Timestamp != 1_700_000_000_123 {
		t.Fatalf("line=%+v\n%s", line, buf.Bytes())
	}
	d := line.AWS.CloudWatchMetrics
	if len(d) != 1 || d[0].Namespace != "AnonymousUsers" || len(d[0].Dimensions) != 1 ||
		len(d[0].Dimensions[0]) != 2 || d[0].Dimensions[0][0] != "Limit" || d[0].Dimensions[0][1] != "Function" ||
		len(d[0].Metrics) != 1 || d[0].Metrics[0].Name != "ClientOverLimit" || d[0].Metrics[0].Unit != "Count" {
		t.Errorf("directive=%+v", d)
	}
}

func TestDirectiveDeclaresEveryMetric(t *testing.T) {
	d := metrics.Directive(time.Unix(1, 0), []string{"Function"}, "A", "B", "C")
	m := d["CloudWatchMetrics"].([]any)[0].(map[string]any)["Metrics"].([]map[string]string)
	if len(m) != 3 || m[0]["Name"] != "A" || m[2]["Name"] != "C" || d["Timestamp"] != int64(1000) {
		t.Errorf("directive=%v", d)
	}
}

// TestKeepMetricsWritesEveryEMFLine: under a Warn level, an Info or Debug line is written
// only when it is an EMF record (its own attributes or the logger's), so LOG_LEVEL never
// loses a metric; a Warn line is written as always.
func TestKeepMetricsWritesEveryEMFLine(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(metrics.KeepMetrics(slog.NewJSONHandler(&buf, nil), slog.LevelWarn))
	at := time.UnixMilli(1700000000000)
	log.Info("plain info")
	log.Debug("plain debug")
	log.Info("counted info", metrics.Count("A", at)...)
	log.Debug("counted debug", metrics.Count("B", at)...)
	log.With(metrics.Count("C", at)...).Info("counted by the logger's attributes")
	log.WithGroup("g").Info("plain in a group")
	log.Warn("plain warn")
	var got []string
	for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		var l struct{ Msg string }
		if err := json.Unmarshal(line, &l); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		got = append(got, l.Msg)
	}
	want := []string{"counted info", "counted debug", "counted by the logger's attributes", "plain warn"}
	if !slices.Equal(got, want) {
		t.Errorf("written %q, want %q", got, want)
	}
}
