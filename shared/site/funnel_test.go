package site_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/metrics"
	"github.com/changebank/anonuser/shared/site"
)

// emfLine is one metric of an EMF record the functions logged, read as CloudWatch reads
// it: the directive names the metric and its dimensions, the line carries their values.
type emfLine struct {
	metric string
	dims   map[string]string
	raw    string
}

// emitted reads every EMF record in the logs so far, one emfLine per declared metric.
// A record whose line lacks a declared metric's value 1 or a dimension's value fails.
func (e *env) emitted(tb testing.TB) []emfLine {
	tb.Helper()
	var out []emfLine
	for raw := range strings.SplitSeq(strings.TrimSpace(e.logText()), "\n") {
		var line map[string]any
		if err := json.Unmarshal([]byte(raw), &line); err != nil {
			tb.Fatalf("log line is not JSON: %v\n%s", err, raw)
		}
		aws, ok := line["_aws"].(map[string]any)
		if !ok {
			continue
		}
		b, _ := json.Marshal(aws)
		var d struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		}
		if err := json.Unmarshal(b, &d); err != nil || d.Timestamp == 0 || len(d.CloudWatchMetrics) != 1 {
			tb.Fatalf("malformed directive %v in\n%s", err, raw)
		}
		cw := d.CloudWatchMetrics[0]
		if cw.Namespace != metrics.Namespace || len(cw.Dimensions) != 1 {
			tb.Fatalf("directive namespace %q dimensions %v, want %s and one set:\n%s", cw.Namespace, cw.Dimensions, metrics.Namespace, raw)
		}
		dims := map[string]string{}
		for _, name := range cw.Dimensions[0] {
			v, ok := line[name].(string)
			if !ok || v == "" {
				tb.Fatalf("dimension %s has no value on the line:\n%s", name, raw)
			}
			dims[name] = v
		}
		for _, m := range cw.Metrics {
			if line[m.Name] != float64(1) || m.Unit != "Count" {
				tb.Fatalf("metric %s: value %v unit %q, want 1 Count:\n%s", m.Name, line[m.Name], m.Unit, raw)
			}
			out = append(out, emfLine{metric: m.Name, dims: dims, raw: raw})
		}
	}
	return out
}

// count is how many of lines count metric, failing on one whose Function is not function.
func count(tb testing.TB, lines []emfLine, metric, function string) int {
	tb.Helper()
	n := 0
	for _, l := range lines {
		if l.metric != metric {
			continue
		}
		if l.dims["Function"] != function {
			tb.Errorf("%s emitted with Function %q, want %q:\n%s", metric, l.dims["Function"], function, l.raw)
		}
		n++
	}
	return n
}

// wantCounts checks each metric's count, and that every metric emitted is a funnel one.
func wantCounts(tb testing.TB, lines []emfLine, want map[string]int, functions map[string]string) {
	tb.Helper()
	for _, l := range lines {
		i := slices.IndexFunc(site.FunnelMetrics, func(s metrics.Spec) bool { return s.Name == l.metric })
		if i < 0 {
			tb.Errorf("metric %s is not in site.FunnelMetrics", l.metric)
			continue
		}
		// A dashboard finds a metric by its name and its whole set of dimensions.
		declared := site.FunnelMetrics[i].Dimensions
		if got, want := slices.Sorted(maps.Keys(l.dims)), slices.Sorted(maps.Keys(declared)); !slices.Equal(got, want) {
			tb.Errorf("%s emitted with dimensions %v, site.FunnelMetrics declares %v:\n%s", l.metric, got, want, l.raw)
		}
		for name, v := range l.dims {
			if !slices.Contains(declared[name], v) {
				tb.Errorf("%s emitted with %s=%q, site.FunnelMetrics declares %v:\n%s", l.metric, name, v, declared[name], l.raw)
			}
		}
	}
	for metric, n := range want {
		if got := count(tb, lines, metric, functions[metric]); got != n {
			tb.Errorf("%s: %d lines, want %d", metric, got, n)
		}
	}
}

var funnelFunctions = map[string]string{
	site.MetricStubCreated: "video", site.MetricCrawlerTurnedAway: "video", site.MetricWatchDropped: "video",
	site.MetricClientOverLimit: "video", site.MetricClientLimitUnavailable: "video",
	site.MetricEmailRequested: "register", site.MetricAddressTaken: "register", site.MetricSignedIn: "register", site.MetricMerged: "register",
	site.MetricForgotten: "register", site.MetricConverted: "webhook",
}

// TestFunnelMetrics walks the anonymous funnel through the real handlers and reads each
// step's metric from the EMF lines: a first visit, a crawler, a return visit, an address
// asked for, the password set from the email, a sign-in (the webhook converts), a second
// device's stub merged at its sign-in, and a forget. Each step counts once, under the
// function that served it, and no metric line names anybody.
func TestFunnelMetrics(t *testing.T) {
	e := newEnv(t)
	want := map[string]int{} // every metric, 0 until its step
	for _, m := range site.FunnelMetrics {
		want[m.Name] = 0
	}
	check := func(step string) {
		t.Helper()
		wantCounts(t, e.emitted(t), want, funnelFunctions)
		if t.Failed() {
			t.Fatalf("after %s:\n%s", step, e.logText())
		}
	}
	b := e.newBrowser(t)
	b.watch(t)
	stubID := mustVerify(t, e, b.cookie(cookieName).Value)
	want[site.MetricStubCreated] = 1
	check("the first visit")

	crawler := map[string]string{"User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
		"Sec-Fetch-Mode": "", "Sec-Fetch-Dest": "", "Sec-Fetch-Site": "", "Sec-Fetch-User": ""}
	if resp := e.visit(t, http.MethodGet, "", crawler); resp.StatusCode != http.StatusOK || visitorCookie(resp) != nil {
		t.Fatalf("crawler: %d, cookie %v; want the page and no cookie", resp.StatusCode, visitorCookie(resp))
	}
	// A browser's frame (FusionAuth's logout page loads /video in one) is no crawler.
	e.visit(t, http.MethodGet, "", map[string]string{"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "iframe"})
	want[site.MetricCrawlerTurnedAway] = 1
	check("a crawler")

	b.watch(t)
	check("a return visit")

	const email = "funnel@example.com"
	if resp := e.post(t, b.cookie(cookieName).Value, email, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("register: %d, want 303", resp.StatusCode)
	}
	want[site.MetricEmailRequested] = 1
	check("the address asked for")

	password := e.setPasswordFromEmail(t, email)
	check("the password set")

	wantSignedIn(t, b.signIn(t, email, password))
	if u := e.user(t, stubID); u.Data["anonymousUser"] != false {
		t.Fatalf("after sign-in: %v, want converted", u.Data)
	}
	// The webhook converted at FusionAuth's login; the callback found it done.
	want[site.MetricConverted], want[site.MetricSignedIn] = 1, 1
	check("the sign-in")

	second := e.newBrowser(t)
	second.watch(t)
	second.watch(t)
	secondStub := mustVerify(t, e, second.cookie(cookieName).Value)
	want[site.MetricStubCreated] = 2
	wantSignedIn(t, second.signIn(t, email, password))
	want[site.MetricMerged], want[site.MetricSignedIn] = 1, 2
	check("the merge on a second device")

	cookie, forgotten := e.newVisitor(t)
	want[site.MetricStubCreated] = 3
	if w := e.me(http.MethodPost, site.MeForgetPath, cookie, "", url.Values{"confirm": {"yes"}}, nil); w.Code != http.StatusOK {
		t.Fatalf("forget: %d", w.Code)
	}
	want[site.MetricForgotten] = 1
	check("the forget")

	// A newcomer asks for the address that is an account's now: the same answer as for
	// a free one, the owner told, and one AddressTaken besides the EmailRequested.
	newcomer, _ := e.newVisitor(t)
	want[site.MetricStubCreated] = 4
	if resp := e.post(t, newcomer, email, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("register a taken address: %d, want 303 as for a free one", resp.StatusCode)
	}
	want[site.MetricEmailRequested], want[site.MetricAddressTaken] = 2, 1
	check("a taken address asked for")

	for _, l := range e.emitted(t) {
		for _, personal := range []string{stubID, secondStub, forgotten, email, `"userId"`, `"stubId"`} {
			if strings.Contains(l.raw, personal) {
				t.Errorf("%s line carries %q:\n%s", l.metric, personal, l.raw)
			}
		}
	}
}

// TestFusionAuthFailingDropsTheWatch: a first visit and a return visit that FusionAuth
// fails are each one WatchDropped of the video function, and nothing else is counted.
func TestFusionAuthFailingDropsTheWatch(t *testing.T) {
	e := newEnv(t)
	e.fa.InjectFault("POST /api/user", http.StatusServiceUnavailable, 1)
	if resp := e.visit(t, http.MethodGet, "", nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("first visit with FusionAuth failing: %d, want 503", resp.StatusCode)
	}
	wantCounts(t, e.emitted(t), map[string]int{site.MetricWatchDropped: 1, site.MetricStubCreated: 0}, funnelFunctions)
	cookie, id := e.newVisitor(t)
	e.fa.InjectFault("GET /api/user/{userId}", http.StatusServiceUnavailable, 100)
	if resp := e.visit(t, http.MethodGet, cookie, nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("return visit with FusionAuth failing: %d, want 503", resp.StatusCode)
	}
	lines := e.emitted(t)
	wantCounts(t, lines, map[string]int{site.MetricWatchDropped: 2, site.MetricStubCreated: 1}, funnelFunctions)
	for _, l := range lines {
		if strings.Contains(l.raw, id) {
			t.Errorf("%s line names the user:\n%s", l.metric, l.raw)
		}
	}
}

// TestLimitMetricsNameTheFunction: a client over its limit of new profiles, and a limit
// that cannot count, are metrics of the function refusing.
func TestLimitMetricsNameTheFunction(t *testing.T) {
	e := newEnv(t)
	const client = "203.0.113.9:1"
	for range config.DefaultStubsPerClientHour + 1 {
		e.visitFrom(client, nil)
	}
	lines := e.emitted(t)
	wantCounts(t, lines, map[string]int{site.MetricClientOverLimit: 1, site.MetricStubCreated: config.DefaultStubsPerClientHour}, funnelFunctions)
	for _, l := range lines {
		if l.metric == site.MetricClientOverLimit && l.dims["Limit"] != "stub" {
			t.Errorf("ClientOverLimit Limit %q, want stub", l.dims["Limit"])
		}
	}
	cookie, _ := e.newVisitor(t)
	down := &failing{}
	e.video.NewProfiles.Limits = down
	e.register.Register.Requests.Limits = down
	e.visitFrom("198.51.100.10:1", nil)
	if resp := e.post(t, cookie, "down@example.com", nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("POST /register with the limits down: %d, want 503", resp.StatusCode)
	}
	by := map[string]int{}
	for _, l := range e.emitted(t) {
		if l.metric == site.MetricClientLimitUnavailable {
			by[l.dims["Function"]]++
		}
	}
	if by["video"] != 1 || by["register"] != 1 || len(by) != 2 {
		t.Errorf("ClientLimitUnavailable by Function: %v, want video 1 and register 1", by)
	}
}

// TestSignedInVisitFailingDropsTheWatch: a counted signed-in visit that FusionAuth
// fails is a dropped watch; the landing right after sign-in, which counts nothing, is not.
func TestSignedInVisitFailingDropsTheWatch(t *testing.T) {
	e := newEnv(t)
	_, email, password := e.regular()
	b := e.newBrowser(t)
	wantSignedIn(t, b.signIn(t, email, password))
	e.fa.InjectFault("GET /api/user/{userId}", http.StatusServiceUnavailable, 100)
	if resp := b.get(t, "/video"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("the landing with FusionAuth failing: %d, want 503", resp.StatusCode)
	}
	wantCounts(t, e.emitted(t), map[string]int{site.MetricWatchDropped: 0}, funnelFunctions)
	if resp := b.get(t, "/video"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("a signed-in visit with FusionAuth failing: %d, want 503", resp.StatusCode)
	}
	wantCounts(t, e.emitted(t), map[string]int{site.MetricWatchDropped: 1}, funnelFunctions)
}

// TestBrowserFetchIsNoCrawler: fetch metadata naming a non-navigation, by mode alone or
// by destination alone, is a browser's own request, not a crawler turned away.
func TestBrowserFetchIsNoCrawler(t *testing.T) {
	for _, h := range []map[string]string{{"Sec-Fetch-Mode": "cors"}, {"Sec-Fetch-Dest": "iframe"}} {
		e := newEnv(t)
		e.visit(t, http.MethodGet, "", h)
		if strings.Contains(e.logText(), site.MetricCrawlerTurnedAway) {
			t.Errorf("%v: counted as a crawler turned away", h)
		}
	}
}
