package devserver

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"log/slog"
	"maps"
	"net/http"
	"sync"
	"time"

	"github.com/changebank/anonuser/shared/prune"
	"github.com/changebank/anonuser/shared/site"
)

// The local funnel: what CloudWatch would chart from the functions' EMF lines, counted
// in memory as the local stack logs them (GET /_local/funnel). Every EMF line the
// functions log through the stack's logger, and every one prune writes, adds its
// metrics here; nothing else is parsed or kept.

// funnel holds the counts since the stack started.
type funnel struct {
	mu      sync.Mutex
	started time.Time
	counts  map[string]int64 // metric name: sum of its values
}

func newFunnel(now time.Time) *funnel { return &funnel{started: now, counts: map[string]int64{}} }

// add counts the metrics an EMF directive declares, reading each value with value.
func (f *funnel) add(directive any, value func(name string) (int64, bool)) {
	names := directiveMetrics(directive)
	if len(names) == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range names {
		if v, ok := value(n); ok {
			f.counts[n] += v
		}
	}
}

func (f *funnel) snapshot() map[string]int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.counts)
}

// directiveMetrics returns the metric names an "_aws" member declares, as
// metrics.Directive builds it or as JSON decodes it.
func directiveMetrics(directive any) []string {
	d, ok := directive.(map[string]any)
	if !ok {
		return nil
	}
	var names []string
	sets, _ := d["CloudWatchMetrics"].([]any)
	for _, set := range sets {
		m, _ := set.(map[string]any)
		switch defs := m["Metrics"].(type) {
		case []map[string]string:
			for _, def := range defs {
				names = append(names, def["Name"])
			}
		case []any:
			for _, def := range defs {
				if dm, ok := def.(map[string]any); ok {
					name, _ := dm["Name"].(string)
					names = append(names, name)
				}
			}
		}
	}
	return names
}

// countingHandler counts the EMF records into f whatever their level, and passes on to
// next the records next is enabled for: the stack's log level chooses what it prints,
// not what the funnel counts.
type countingHandler struct {
	next slog.Handler
	f    *funnel
}

// Enabled is true at every level: an Info step is counted under a Warn logger.
func (h countingHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h countingHandler) Handle(ctx context.Context, r slog.Record) error {
	var directive any
	values := map[string]int64{}
	r.Attrs(func(a slog.Attr) bool {
		v := a.Value.Resolve()
		if a.Key == "_aws" {
			directive = v.Any()
		} else if v.Kind() == slog.KindInt64 {
			values[a.Key] = v.Int64()
		}
		return true
	})
	if directive != nil {
		h.f.add(directive, func(name string) (int64, bool) { v, ok := values[name]; return v, ok })
	}
	if !h.next.Enabled(ctx, r.Level) {
		return nil
	}
	return h.next.Handle(ctx, r)
}

func (h countingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return countingHandler{h.next.WithAttrs(as), h.f}
}

func (h countingHandler) WithGroup(name string) slog.Handler {
	return countingHandler{h.next.WithGroup(name), h.f}
}

// pruneMetrics is where prune writes its EMF line: a real run's counts are added (a
// dry run's are what it would do, so they are not).
type pruneMetrics struct{ f *funnel }

func (w pruneMetrics) Write(b []byte) (int, error) {
	var line map[string]any
	if err := json.Unmarshal(b, &line); err != nil {
		return 0, fmt.Errorf("prune metrics: %w", err)
	}
	if line[prune.DimDryRun] != "true" {
		w.f.add(line["_aws"], func(name string) (int64, bool) {
			v, ok := line[name].(float64)
			return int64(v), ok
		})
	}
	return len(b), nil
}

// funnelSteps are the bars of the page, in the funnel's order: the visitor's way from a
// first visit to an account, then what was turned away or lost, then prune's work.
var funnelSteps = []struct{ Metric, Label string }{
	{site.MetricStubCreated, "anonymous profiles created"},
	{site.MetricEmailRequested, "asked to keep it under an email"},
	{site.MetricAddressTaken, "of those, an account's address (its owner told)"},
	{site.MetricConverted, "converted into an account"},
	{site.MetricSignedIn, "signed in"},
	{site.MetricMerged, "merged into an existing account"},
	{site.MetricForgotten, "asked to be forgotten"},
	{site.MetricCrawlerTurnedAway, "crawlers served uncounted"},
	{site.MetricClientOverLimit, "refused: client over its limit"},
	{site.MetricWatchDropped, "visits not recorded (FusionAuth failing)"},
	{site.MetricServerError, "server errors (5xx) answered"},
	{prune.MetricDeleted, "stale stubs deleted by prune"},
	{prune.MetricEmailsReleased, "unproven addresses released by prune"},
	{prune.MetricReconciled, "conversions prune completed"},
}

type funnelBar struct {
	Label  string
	Metric string
	Count  int64
	Y      int
	Width  int
	TextX  int
}

type funnelPage struct {
	Since, Now         string
	Bars               []funnelBar
	Height             int
	Census             bool
	Anonymous, Pending int64
	Converted          int64
	CensusErr          string
	Width, LabelW      int
}

var funnelTemplate = template.Must(template.New("funnel").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Funnel (local stack)</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem;color:#222}
td,th{padding:.2rem .8rem;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
svg text{font-size:13px;fill:#222}.bar{fill:#2f6fb0}</style></head><body>
<h1>The anonymous funnel</h1>
<p>Counted from the metrics the functions emitted since the local stack started ({{.Since}});
now {{.Now}}. Reload to refresh. On AWS the same metrics feed the CloudWatch dashboard.</p>
<svg role="img" aria-label="funnel chart" width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}">
{{range .Bars}}<text x="0" y="{{.Y}}" dy="14">{{.Label}}</text>
<rect class="bar" x="{{$.LabelW}}" y="{{.Y}}" width="{{.Width}}" height="18"><title>{{.Metric}}: {{.Count}}</title></rect>
<text x="{{.TextX}}" y="{{.Y}}" dy="14">{{.Count}}</text>
{{end}}</svg>
<h2>Users in FusionAuth now</h2>
{{if .Census}}<table><tr><th>anonymous profiles</th><td class="n" id="anonymous">{{.Anonymous}}</td></tr>
<tr><th>waiting for their address to be proven</th><td class="n" id="pending">{{.Pending}}</td></tr>
<tr><th>converted accounts</th><td class="n" id="converted">{{.Converted}}</td></tr></table>
{{else}}<p>FusionAuth did not answer: {{.CensusErr}}</p>{{end}}
</body></html>
`))

// handleFunnel serves the funnel page: the counts since start as an inline SVG chart
// (no script), and prune's census of the users in FusionAuth. Loopback only.
func (s *Stack) handleFunnel(w http.ResponseWriter, r *http.Request) {
	if !fromLoopback(r) {
		http.Error(w, "forbidden: loopback only", http.StatusForbidden)
		return
	}
	counts := s.funnel.snapshot()
	const labelW, barsW = 340, 400
	page := funnelPage{Since: s.funnel.started.UTC().Format(time.RFC3339), Now: time.Now().UTC().Format(time.RFC3339),
		LabelW: labelW, Width: labelW + barsW + 60}
	var most int64 = 1
	for _, st := range funnelSteps {
		most = max(most, counts[st.Metric])
	}
	for i, st := range funnelSteps {
		n := counts[st.Metric]
		width := int(n * barsW / most)
		page.Bars = append(page.Bars, funnelBar{Label: st.Label, Metric: st.Metric, Count: n, Y: i * 26, Width: width, TextX: labelW + width + 6})
	}
	page.Height = len(funnelSteps) * 26
	census, err := s.pruner.Census(r.Context())
	if err != nil {
		page.CensusErr = err.Error()
	} else {
		page.Census, page.Anonymous, page.Pending, page.Converted = true, census.RemainingAnonymous, census.PendingConversions, census.Converted
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	if err := funnelTemplate.Execute(w, page); err != nil {
		s.log.ErrorContext(r.Context(), "funnel page", "error", err)
	}
}
