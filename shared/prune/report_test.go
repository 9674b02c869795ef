package prune_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/faclient/fatest"
	"github.com/changebank/anonuser/shared/prune"
)

func TestDryRunRequested(t *testing.T) {
	tests := map[string]bool{
		`{"dryRun":true}`:  true,
		`{"dryRun":false}`: false,
		`{}`:               false,
		``:                 false,
		`{"dryRun":"yes"}`: false,
		`not json`:         false,
	}
	for detail, want := range tests {
		t.Run(detail, func(t *testing.T) {
			if got := prune.DryRunRequested(json.RawMessage(detail)); got != want {
				t.Errorf("DryRunRequested(%s) = %v, want %v", detail, got, want)
			}
		})
	}
}

// TestRunAndReport checks that a pass is logged and written as metrics, and that a failed
// pass is reported as an error with its metrics still written.
func TestRunAndReport(t *testing.T) {
	fa := fatest.NewTestServer(t, fatest.Options{})
	client, err := faclient.New(faclient.Options{BaseURL: fa.URL(), Keys: faclient.StaticKey(fa.Variable("pruneApiKey")), MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	var logs, metrics strings.Builder
	p := prune.New(client, prune.Options{}, slog.New(slog.NewJSONHandler(&logs, nil)))

	if _, err := p.RunAndReport(t.Context(), &metrics); err != nil {
		t.Fatalf("RunAndReport: got %v, want nil", err)
	}
	if !strings.Contains(logs.String(), `"msg":"prune finished"`) || !strings.Contains(metrics.String(), `"Namespace":"`+prune.Namespace+`"`) {
		t.Errorf("log %q metrics %q, want a finished record and one EMF line", logs.String(), metrics.String())
	}

	logs.Reset()
	metrics.Reset()
	fa.InjectFault("POST /api/user/search", http.StatusServiceUnavailable, 10)
	fa.InjectFault("DELETE /api/user/bulk", http.StatusServiceUnavailable, 10)
	if _, err := p.RunAndReport(t.Context(), &metrics); err == nil {
		t.Fatal("RunAndReport against a failing FusionAuth: got nil error, want one")
	}
	if !strings.Contains(logs.String(), `"msg":"prune failed"`) || metrics.Len() == 0 {
		t.Errorf("log %q metrics %q, want a failed record and the metrics still written", logs.String(), metrics.String())
	}
}
