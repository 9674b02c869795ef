package site_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/site"
)

// report sends POST /video/progress as the page's beacon does (a same-origin form),
// with the visitor cookie; header overrides the fetch metadata ("" removes one).
func (e *env) report(cookie, contentType, body string, header map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, origin+site.ProgressPath, strings.NewReader(body))
	r.RemoteAddr = e.nextAddr()
	r.Header.Set("Content-Type", contentType)
	r.Header.Set("Origin", origin)
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	r.Header.Set("Sec-Fetch-Mode", "no-cors")
	override(r.Header, header)
	if cookie != "" {
		r.AddCookie(&http.Cookie{Name: cookieName, Value: cookie})
	}
	w := httptest.NewRecorder()
	e.video.ServeHTTP(w, r)
	return w
}

const form = "application/x-www-form-urlencoded"

// clockedVisits puts the video function's visits on the test's clock, with a video of
// 600 s, so that the caps can be tested without waiting.
func (e *env) clockedVisits() {
	e.video.Visits = anon.NewWith(e.client, e.locks, anon.Options{VideoSeconds: 600, Now: e.clock.Now})
}

// TestProgressCreditedUnderConcurrentReports: 20 reports of 1 s at once, 30 s into the
// visit, through the handler: 20 s credited, each report answered 204, and the page
// then says so.
func TestProgressCreditedUnderConcurrentReports(t *testing.T) {
	e := newEnv(t)
	e.clockedVisits()
	cookie, id := e.newVisitor(t)
	e.clock.Advance(30 * time.Second)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if w := e.report(cookie, form, "seconds=1", nil); w.Code != http.StatusNoContent || w.Body.Len() != 0 {
				t.Errorf("report: %d %q, want 204 and no body", w.Code, w.Body.String())
			}
		})
	}
	wg.Wait()
	if got := e.user(t, id).Data[anon.DataWatchSeconds]; got != 20.0 {
		t.Errorf("watchSeconds=%v, want 20", got)
	}
	e.clock.Advance(272 * time.Second)
	e.report(cookie, "application/json", `{"seconds": 232.7}`, nil) // 252 s in all
	page := body(t, e.visit(t, http.MethodGet, cookie, nil))
	if !strings.Contains(page, `<span id="watch-time">4 min 12 s</span> in all`) {
		t.Errorf("page does not show the watch time:\n%s", page)
	}
}

// TestForgedProgressChangesNothing: a cross-site report, one without fetch metadata
// from another origin, one with a forged cookie, one without a cookie, and malformed
// ones change nothing, and only a valid one reaches FusionAuth.
func TestForgedProgressChangesNothing(t *testing.T) {
	e := newEnv(t)
	e.clockedVisits()
	cookie, id := e.newVisitor(t)
	e.clock.Advance(time.Minute)
	e.client.Counter().Reset()
	cases := []struct {
		name, cookie, contentType, body string
		header                          map[string]string
		want                            int
	}{
		{"cross-site", cookie, form, "seconds=30", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, http.StatusForbidden},
		{"same-site but another origin", cookie, form, "seconds=30", map[string]string{"Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		{"no fetch metadata, foreign Origin", cookie, form, "seconds=30", map[string]string{"Sec-Fetch-Site": "", "Origin": "https://evil.example"}, http.StatusForbidden},
		{"forged cookie", cookie[:len(cookie)-4] + "AAAA", form, "seconds=30", nil, http.StatusNoContent},
		{"no cookie", "", form, "seconds=30", nil, http.StatusNoContent},
		{"nothing played", cookie, form, "seconds=0", nil, http.StatusNoContent},
		{"negative", cookie, form, "seconds=-30", nil, http.StatusBadRequest},
		{"not a number", cookie, form, "seconds=NaN", nil, http.StatusBadRequest},
		{"JSON without seconds", cookie, "application/json", `{"s": 3}`, nil, http.StatusBadRequest},
		{"too large", cookie, form, "seconds=1&pad=" + strings.Repeat("x", 2000), nil, http.StatusRequestEntityTooLarge},
	}
	for _, tc := range cases {
		if w := e.report(tc.cookie, tc.contentType, tc.body, tc.header); w.Code != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, w.Code, tc.want)
		}
	}
	if n := e.client.Counter().Total(); n != 0 {
		t.Errorf("FusionAuth calls for refused reports: %v, want none", e.client.Counter().Snapshot())
	}
	if _, ok := e.user(t, id).Data[anon.DataWatchSeconds]; ok {
		t.Error("a refused report credited watch time")
	}
	if w := e.report(cookie, form, "seconds=30", nil); w.Code != http.StatusNoContent {
		t.Fatalf("valid report: %d", w.Code)
	}
	if n := e.client.Counter().Total(); n != 2 {
		t.Errorf("FusionAuth calls for one report: %d, want 2 (read, patch)", n)
	}
	if r := httptest.NewRecorder(); true {
		e.video.ServeHTTP(r, httptest.NewRequest(http.MethodGet, origin+site.ProgressPath, nil))
		if r.Code != http.StatusMethodNotAllowed || r.Header().Get("Allow") != "POST" {
			t.Errorf("GET %s: %d Allow %q, want 405 POST", site.ProgressPath, r.Code, r.Header().Get("Allow"))
		}
	}
}

// TestInflatedProgressIsCappedByTheVisit: a script that claims an hour 10 s into the
// visit is credited 10 s, and never more than the video per visit.
func TestInflatedProgressIsCappedByTheVisit(t *testing.T) {
	e := newEnv(t)
	e.clockedVisits()
	cookie, id := e.newVisitor(t)
	e.clock.Advance(10 * time.Second)
	e.report(cookie, form, "seconds=3600", nil)
	e.report(cookie, form, "seconds=3600", nil)
	if got := e.user(t, id).Data[anon.DataWatchSeconds]; got != 10.0 {
		t.Errorf("watchSeconds=%v after two inflated reports 10 s in, want 10", got)
	}
	e.clock.Advance(2 * time.Hour)
	e.report(cookie, form, "seconds=1e9", nil)
	if got := e.user(t, id).Data[anon.DataWatchSeconds]; got != 600.0 {
		t.Errorf("watchSeconds=%v, want the video's 600 for the visit", got)
	}
}

// TestPageRunsOnlyItsOwnScript: the counted video page carries the progress script,
// and the Content-Security-Policy allows exactly that script by its hash.
func TestPageRunsOnlyItsOwnScript(t *testing.T) {
	e := newEnv(t)
	resp := e.visit(t, http.MethodGet, "", nil)
	page := body(t, resp)
	m := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindAllStringSubmatch(page, -1)
	if len(m) != 1 || !strings.Contains(m[0][1], "sendBeacon") {
		t.Fatalf("scripts on the page: %d, want the one progress script", len(m))
	}
	sum := sha256.Sum256([]byte(m[0][1]))
	csp := resp.Header.Get("Content-Security-Policy")
	if want := "script-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "';"; !strings.Contains(csp, want) {
		t.Errorf("CSP %q, want %q", csp, want)
	}
}

// TestSignedInProgressCountsOnTheAccount: a signed-in person's report is credited to
// their account by the session, and FusionAuth failing is a 503 that credits nothing.
func TestSignedInProgressCountsOnTheAccount(t *testing.T) {
	e := newEnv(t)
	e.clockedVisits()
	id, email, password := e.regular()
	b := e.newBrowser(t)
	wantSignedIn(t, b.signIn(t, email, password))
	b.watch(t) // the landing
	b.watch(t) // a counted visit: the visit's allowance starts
	e.clock.Advance(time.Minute)
	session := b.cookie(site.DefaultSessionCookie).Value
	send := func() int {
		r := httptest.NewRequest(http.MethodPost, origin+site.ProgressPath, strings.NewReader("seconds=12"))
		r.RemoteAddr = b.addr
		r.Header.Set("Content-Type", form)
		r.Header.Set("Sec-Fetch-Site", "same-origin")
		r.AddCookie(&http.Cookie{Name: site.DefaultSessionCookie, Value: session})
		w := httptest.NewRecorder()
		e.video.ServeHTTP(w, r)
		return w.Code
	}
	before := e.user(t, id).Data[anon.DataWatchSeconds]
	if code := send(); code != http.StatusNoContent {
		t.Fatalf("signed-in report: %d, want 204", code)
	}
	got := e.user(t, id).Data[anon.DataWatchSeconds]
	if b, _ := before.(float64); got != b+12 {
		t.Errorf("account watchSeconds %v after 12 s (before %v)", got, before)
	}
	e.fa.InjectFault("GET /api/user/{userId}", http.StatusInternalServerError, 10)
	if code := send(); code != http.StatusServiceUnavailable {
		t.Errorf("report while FusionAuth fails: %d, want 503", code)
	}
}
