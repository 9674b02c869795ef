package browser_test

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/changebank/anonuser/e2e/flow"
	"github.com/changebank/anonuser/shared/faclient/fatest"
)

const (
	journeyTimeout = 60 * time.Second
	cookieName     = "anon_user"
	cookieLifetime = 365 * 24 * time.Hour // DESIGN: the visitor cookie lives one year
	visitorPass    = "Correct-Horse-Battery-9"
	sentNotice     = "Please check your email."
)

// journey is the state the steps of the test share: one browser tab walking the
// product from a first anonymous visit to a converted account.
type journey struct {
	tab    context.Context // chromedp context of the tab
	tg     *flow.Target    // where the journey runs (e2e/flow: in-memory by default, APP_URL for a running stack)
	shots  string          // directory of the screenshots
	shotN  int
	email  string // the visitor's address, fresh each run (a real FusionAuth keeps old ones)
	userID string // the visitor's FusionAuth user, read from the cookie token
}

// TestJourney walks the whole product in headless Chromium against the target e2e/flow
// selects: the in-memory stack, or a running stack with a real FusionAuth and Mailpit
// when APP_URL is set. Each step depends on the ones before it, so the first failing
// step ends the test.
func TestJourney(t *testing.T) {
	chromium := chromiumPath(t)
	shots := screenshotDir(t)
	tg := flow.Open(t)

	ctx, cancel := context.WithTimeout(t.Context(), journeyTimeout)
	defer cancel()

	// Nothing but the target's hosts resolves, so no page can reach past them.
	resolverRules := "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
	for _, h := range tg.Hosts() {
		resolverRules += ", EXCLUDE " + h
	}

	// No UserDataDir option: the allocator makes a fresh profile directory for this
	// browser and removes it (after killing leftovers) when the browser ends.
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("host-resolver-rules", resolverRules),
		chromedp.WindowSize(1280, 900),
		// Headless Chromium says "HeadlessChrome" in its User-Agent, and the site rightly
		// creates no profile for a headless browser: this one presents as the Chrome a
		// person runs. Its navigations still carry Chromium's own fetch metadata.
		chromedp.UserAgent(flow.BrowserUserAgent),
	)
	defer cancelAlloc()
	tab, cancelTab := chromedp.NewContext(allocCtx)
	defer cancelTab()
	if err := chromedp.Do(tab); err != nil { // starts the browser
		t.Fatalf("start chromium %s: %v", chromium, err)
	}

	requests := watchRequests(tab, tg.Hosts())
	j := &journey{tab: tab, tg: tg, shots: shots, email: flow.UniqueEmail("ada.lovelace")}
	steps := []struct {
		name string
		run  func(t *testing.T, j *journey)
	}{
		{"first visit starts a profile with an HttpOnly cookie", firstVisit},
		{"reload counts a second watch", reloadCounts},
		{"register form sends the set-password email", requestAccount},
		{"outbox link sets a password on FusionAuth", setPassword},
		{"login on FusionAuth converts the profile", logIn},
		{"converted account keeps its history", convertedAccount},
		{"no page loaded anything from other hosts", func(t *testing.T, _ *journey) {
			if got := requests.offsite(); len(got) > 0 {
				t.Errorf("requests to other hosts than the site's and FusionAuth's %v: got %q, want none", tg.Hosts(), got)
			}
		}},
	}
	for _, s := range steps {
		if !t.Run(s.name, func(t *testing.T) { s.run(t, j) }) {
			t.Fatalf("journey stopped at step %q: each step needs the ones before it", s.name)
		}
	}
}

// firstVisit: /video counts 1 and sets the visitor cookie, which scripts cannot read.
func firstVisit(t *testing.T, j *journey) {
	before := time.Now()
	resp := navigate(t, j.tab, j.tg.AppURL+"/video")
	after := time.Now()
	wantStatus(t, resp, 200)
	if got, want := watchCount(t, j.tab), 1; got != want {
		t.Errorf("watch count on the first visit: got %d, want %d", got, want)
	}
	j.screenshot(t, "video-first-visit")

	c := visitorCookie(t, j.tab, j.tg.AppURL)
	checks := []struct {
		name      string
		got, want any
	}{
		{"HttpOnly", c.HTTPOnly, true},
		{"Secure", c.Secure, true},
		{"SameSite", c.SameSite, network.CookieSameSiteLax},
		{"Path", c.Path, "/"},
		{"Session", c.Session, false},
		{"Domain", c.Domain, appHost(t, j.tg.AppURL)},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("cookie %s %s: got %v, want %v", cookieName, ck.name, ck.got, ck.want)
		}
	}
	expires := time.Unix(int64(c.Expires), 0)
	earliest := before.Add(cookieLifetime - time.Minute)
	latest := after.Add(cookieLifetime + time.Minute)
	if expires.Before(earliest) || expires.After(latest) {
		t.Errorf("cookie %s expires: got %s, want about one year ahead (%s to %s)", cookieName,
			expires.UTC().Format(time.RFC3339), earliest.UTC().Format(time.RFC3339), latest.UTC().Format(time.RFC3339))
	}

	docCookie := run(t, j.tab, "read document.cookie", chromedp.Evaluate[string](`document.cookie`))
	if strings.Contains(docCookie, cookieName) {
		t.Errorf("document.cookie: got %q, want it without %s (the cookie must be HttpOnly)", docCookie, cookieName)
	}

	j.userID = tokenUserID(t, c.Value)
	u := user(t, j)
	if got, want := data(u)["anonymousUser"], any(true); got != want {
		t.Errorf("user %s data.anonymousUser after the first visit: got %v, want %v", j.userID, got, want)
	}
	if name, _ := u["username"].(string); name == "" {
		t.Errorf("user %s username after the first visit: got %v, want a generated username", j.userID, u["username"])
	}
}

// reloadCounts: a reload is a second watch of the same profile.
func reloadCounts(t *testing.T, j *journey) {
	do(t, j.tab, "reload /video", chromedp.Reload())
	if got, want := watchCount(t, j.tab), 2; got != want {
		t.Errorf("watch count after a reload: got %d, want %d", got, want)
	}
	if got := visitorCookie(t, j.tab, j.tg.AppURL); tokenUserID(t, got.Value) != j.userID {
		t.Errorf("cookie user after a reload: got %s, want %s (the same profile)", tokenUserID(t, got.Value), j.userID)
	}
	j.screenshot(t, "video-reload")
}

// requestAccount: "Create an account" leads to the register form, which sends the
// set-password email.
func requestAccount(t *testing.T, j *journey) {
	resp := clickAndLoad(t, j.tab, "#create-account")
	wantStatus(t, resp, 200)
	wantLocation(t, j.tab, j.tg.AppURL+"/register")
	do(t, j.tab, "wait for the email field", chromedp.WaitVisible(chromedp.CSS("#email")))
	lead := run(t, j.tab, "read the register page", chromedp.Text(chromedp.CSS("p.lead")))
	if !strings.Contains(lead, "watched our video 2 times") {
		t.Errorf("register page lead: got %q, want it to mention the 2 watches", lead)
	}
	j.screenshot(t, "register-form")

	do(t, j.tab, "type the email", chromedp.SendKeys(chromedp.CSS("#email"), j.email))
	resp = clickAndLoad(t, j.tab, "#submit")
	wantStatus(t, resp, 200)
	do(t, j.tab, "wait for the notice", chromedp.WaitVisible(chromedp.CSS("#notice")))
	if got := run(t, j.tab, "read the notice", chromedp.Text(chromedp.CSS("#notice"))); strings.TrimSpace(got) != sentNotice {
		t.Errorf("notice after sending the form: got %q, want %q", got, sentNotice)
	}
	j.screenshot(t, "register-sent")

	u := user(t, j)
	if got := u["email"]; got != j.email {
		t.Errorf("user %s email after the form: got %v, want %s", j.userID, got, j.email)
	}
	if got, want := data(u)["anonymousUser"], any(true); got != want {
		t.Errorf("user %s data.anonymousUser before any login: got %v, want %v", j.userID, got, want)
	}
}

// setPassword: the email's link opens FusionAuth's page, where the visitor sets a
// password. On the in-memory stack the link is followed from the local outbox page; on
// a running stack it is read from Mailpit.
func setPassword(t *testing.T, j *journey) {
	var resp *network.Response
	if j.tg.Embedded() {
		wantStatus(t, navigate(t, j.tab, j.tg.AppURL+"/_local/outbox"), 200)
		do(t, j.tab, "wait for the set-password link", chromedp.WaitVisible(chromedp.CSS("article.email a.link")))
		if got := run(t, j.tab, "read the recipient", chromedp.Text(chromedp.CSS("article.email .to"))); got != j.email {
			t.Errorf("outbox recipient: got %q, want %q", got, j.email)
		}
		j.screenshot(t, "outbox")
		resp = clickAndLoad(t, j.tab, "article.email a.link")
	} else {
		resp = navigate(t, j.tab, j.tg.EmailLink(t, j.email))
	}
	wantStatus(t, resp, 200)
	if loc := location(t, j.tab); !strings.HasPrefix(loc, j.tg.FusionAuthURL+"/password/change/") {
		t.Errorf("page after the email link: got %s, want FusionAuth's %s/password/change/…", loc, j.tg.FusionAuthURL)
	}
	do(t, j.tab, "fill in the password form",
		chromedp.WaitVisible(chromedp.CSS("#passwordConfirm")),
		chromedp.SendKeys(chromedp.CSS("#password"), visitorPass),
		chromedp.SendKeys(chromedp.CSS("#passwordConfirm"), visitorPass),
	)
	j.screenshot(t, "fusionauth-set-password")

	resp = clickAndLoad(t, j.tab, submitButton("#passwordConfirm"))
	wantStatus(t, resp, 200)
	if j.tg.Embedded() { // the stand-in's confirmation; FusionAuth's themed page words it its own way
		do(t, j.tab, "wait for the confirmation", chromedp.WaitVisible(chromedp.CSS("#message")))
		if got := run(t, j.tab, "read the confirmation", chromedp.Text(chromedp.CSS("#message"))); !strings.Contains(got, "Your password has been set") {
			t.Errorf("message after setting the password: got %q, want %q", got, "Your password has been set.")
		}
	}
	if again := run(t, j.tab, "look for the password form", chromedp.Evaluate[bool](`document.querySelector('#passwordConfirm') !== null`)); again {
		t.Fatal("page after setting the password: got the password form again, want it accepted")
	}
	j.screenshot(t, "fusionauth-password-set")

	if got, want := data(user(t, j))["anonymousUser"], any(true); got != want {
		t.Errorf("user %s data.anonymousUser after setting a password, before login: got %v, want %v", j.userID, got, want)
	}
}

// logIn: FusionAuth's login page (on the in-memory stack, reached by the "Log in" link of
// the confirmation; on a running stack, opened as the site's login button does); the
// login converts the profile (webhook) and comes back to /video with a code.
func logIn(t *testing.T, j *journey) {
	if !j.tg.Embedded() {
		wantStatus(t, navigate(t, j.tab, j.tg.AuthorizeURL()), 200)
	} else {
		followLoginLink(t, j)
	}
	do(t, j.tab, "fill in the login form",
		chromedp.WaitVisible(chromedp.CSS("#loginId")),
		chromedp.SendKeys(chromedp.CSS("#loginId"), j.email),
		chromedp.SendKeys(chromedp.CSS("#password"), visitorPass),
	)
	j.screenshot(t, "fusionauth-login")

	resp := clickAndLoad(t, j.tab, submitButton("#loginId"))
	wantStatus(t, resp, 200)
	if !strings.HasPrefix(resp.URL, j.tg.AppURL+"/video?") || !strings.Contains(resp.URL, "code=") {
		t.Errorf("page after login: got %s, want %s/video?code=…", resp.URL, j.tg.AppURL)
	}
	// Watches: first visit 1, reload 2, and the redirect back from the login is the
	// third visit of /video.
	if got, want := watchCount(t, j.tab), 3; got != want {
		t.Errorf("watch count after login: got %d, want %d (two before, plus the redirect to /video)", got, want)
	}
	if body := bodyText(t, j.tab); !strings.Contains(body, "Welcome back") {
		t.Errorf("/video after login: got text %q, want it to contain %q", body, "Welcome back")
	}
	j.screenshot(t, "video-welcome-back")
}

// followLoginLink checks and clicks the stand-in's "Log in" link after a password is set.
func followLoginLink(t *testing.T, j *journey) {
	href := run(t, j.tab, "read the login link", chromedp.AttributeValue(chromedp.CSS("#link"), "href"))
	login, err := url.Parse(href.Value)
	if err != nil {
		t.Fatalf("login link %q: %v", href.Value, err)
	}
	q := login.Query()
	linkChecks := []struct{ name, got, want string }{
		{"path", login.Path, "/oauth2/authorize"},
		{"client_id", q.Get("client_id"), j.tg.Variables["applicationId"]},
		{"redirect_uri", q.Get("redirect_uri"), j.tg.AppURL + "/video"},
		{"response_type", q.Get("response_type"), "code"},
	}
	for _, c := range linkChecks {
		if c.got != c.want {
			t.Errorf("login link %s: got %q, want %q", c.name, c.got, c.want)
		}
	}

	wantStatus(t, clickAndLoad(t, j.tab, "#link"), 200)
}

// submitButton selects the button of the form holding the field: the stand-in's pages
// and FusionAuth's themed ones both put one submit button in the form.
func submitButton(field string) string { return "form:has(" + field + ") button" }

// convertedAccount: FusionAuth holds a regular user with the history, and /register
// says the profile is already an account.
func convertedAccount(t *testing.T, j *journey) {
	// A real FusionAuth calls the webhook after it has answered the login.
	var u map[string]any
	flow.Eventually(t, 20*time.Second, "the webhook to convert user "+j.userID, func() bool {
		u = user(t, j)
		return data(u)["anonymousUser"] == false
	})
	d := data(u)
	if got, want := d["anonymousUser"], any(false); got != want {
		t.Errorf("user %s data.anonymousUser after login: got %v, want %v", j.userID, got, want)
	}
	if name, ok := u["username"]; ok && name != nil && name != "" {
		t.Errorf("user %s username after login: got %v, want none", j.userID, name)
	}
	if got, want := fmt.Sprint(d["watchCount"]), "3"; got != want {
		t.Errorf("user %s data.watchCount after login: got %s, want %s", j.userID, got, want)
	}
	if _, ok := d["convertedAt"]; !ok {
		t.Errorf("user %s data.convertedAt after login: got none, want the conversion time", j.userID)
	}
	if got := u["email"]; got != j.email {
		t.Errorf("user %s email after login: got %v, want %s", j.userID, got, j.email)
	}

	wantStatus(t, navigate(t, j.tab, j.tg.AppURL+"/register"), 200)
	do(t, j.tab, "wait for the login button", chromedp.WaitVisible(chromedp.CSS(`main a.button[href*="/oauth2/authorize"]`)))
	if body := bodyText(t, j.tab); !strings.Contains(body, "already a ChangeBank account") {
		t.Errorf("/register after conversion: got text %q, want it to contain %q", body, "already a ChangeBank account")
	}
	if hasForm := run(t, j.tab, "look for the email field", chromedp.Evaluate[bool](`document.querySelector('#email') !== null`)); hasForm {
		t.Error("/register after conversion: got an email form, want none (the profile is an account)")
	}
	j.screenshot(t, "register-converted")
}

// requestLog records the browser's requests to hosts other than 127.0.0.1 and the
// allowed ones (data: URLs aside).
type requestLog struct {
	mu   sync.Mutex
	urls []string
}

// watchRequests starts recording; it stops when the tab's context ends.
func watchRequests(tab context.Context, allowed []string) *requestLog {
	l := &requestLog{}
	events := chromedp.Events(tab, network.RequestWillBeSent)
	go func() {
		for ev, err := range events {
			if err != nil {
				return
			}
			u, err := url.Parse(ev.Request.URL)
			if err == nil && (u.Scheme == "data" || u.Hostname() == "127.0.0.1" || slices.Contains(allowed, u.Hostname())) {
				continue
			}
			l.mu.Lock()
			l.urls = append(l.urls, ev.Request.URL)
			l.mu.Unlock()
		}
	}()
	return l
}

func (l *requestLog) offsite() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.urls)
}

// chromiumPath finds the browser, or skips (fails under CI=true) without it.
func chromiumPath(tb testing.TB) string {
	tb.Helper()
	p, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("chromium not found on PATH (%v); CI must install it (scripts/tools.sh)", err)
		}
		tb.Skipf("chromium not found on PATH (%v); install it with scripts/tools.sh", err)
	}
	return p
}

// screenshotDir is $ARTIFACTS_DIR/browser, or artifacts/browser under the module root.
func screenshotDir(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv("ARTIFACTS_DIR")
	if base == "" {
		root, err := fatest.ModuleRoot()
		if err != nil {
			tb.Fatalf("find the module root: %v", err)
		}
		base = filepath.Join(root, "artifacts")
	}
	dir := filepath.Join(base, "browser")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatalf("create the screenshot directory: %v", err)
	}
	return dir
}

// screenshot saves a full-page PNG of the current page and logs its path.
func (j *journey) screenshot(tb testing.TB, name string) {
	tb.Helper()
	img := run(tb, j.tab, "screenshot "+name, chromedp.FullScreenshot(100))
	if !bytes.HasPrefix(img, []byte("\x89PNG\r\n\x1a\n")) {
		tb.Fatalf("screenshot %s: got %d bytes that are not a PNG, want a PNG", name, len(img))
	}
	j.shotN++
	path := filepath.Join(j.shots, fmt.Sprintf("%02d-%s.png", j.shotN, name))
	if err := os.WriteFile(path, img, 0o644); err != nil {
		tb.Fatalf("save screenshot: %v", err)
	}
	tb.Logf("screenshot: %s", path)
}

func do(tb testing.TB, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	tb.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
}

func run[T any](tb testing.TB, ctx context.Context, what string, a chromedp.Action[T]) T {
	tb.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
	return v
}

// navigate loads a URL and returns the response of its document.
func navigate(tb testing.TB, ctx context.Context, u string) *network.Response {
	tb.Helper()
	return run(tb, ctx, "navigate to "+u, chromedp.NavigateResponse(u))
}

// clickAndLoad clicks the element and waits for the page it leads to.
func clickAndLoad(tb testing.TB, ctx context.Context, sel string) *network.Response {
	tb.Helper()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		tb.Fatalf("click %s and wait for the next page: %v", sel, err)
	}
	return resp
}

func wantStatus(tb testing.TB, resp *network.Response, want int64) {
	tb.Helper()
	if resp == nil {
		tb.Fatalf("response: got none, want status %d", want)
	}
	if resp.Status != want {
		tb.Fatalf("status of %s: got %d, want %d", resp.URL, resp.Status, want)
	}
}

func location(tb testing.TB, ctx context.Context) string {
	tb.Helper()
	return run(tb, ctx, "read the location", chromedp.Location())
}

func wantLocation(tb testing.TB, ctx context.Context, want string) {
	tb.Helper()
	if got := location(tb, ctx); got != want {
		tb.Errorf("location: got %s, want %s", got, want)
	}
}

func bodyText(tb testing.TB, ctx context.Context) string {
	tb.Helper()
	return run(tb, ctx, "read the page text", chromedp.Evaluate[string](`document.body.innerText`))
}

// watchCount waits for #watch-count and returns the number it shows.
func watchCount(tb testing.TB, ctx context.Context) int {
	tb.Helper()
	do(tb, ctx, "wait for the watch count", chromedp.WaitVisible(chromedp.CSS("#watch-count")))
	s := run(tb, ctx, "read the watch count", chromedp.Text(chromedp.CSS("#watch-count strong")))
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		tb.Fatalf("watch count: got %q, want a number", s)
	}
	return n
}

// visitorCookie returns the browser's anon_user cookie for the site.
func visitorCookie(tb testing.TB, ctx context.Context, site string) *network.Cookie {
	tb.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{site}})
	if err != nil {
		tb.Fatalf("read cookies: %v", err)
	}
	var names []string
	for _, c := range res.Cookies {
		if c.Name == cookieName {
			return c
		}
		names = append(names, c.Name)
	}
	tb.Fatalf("cookies for %s: got %v, want one named %s", site, names, cookieName)
	return nil
}

// tokenUserID is flow.TokenUserID, failing tb on a malformed token.
func tokenUserID(tb testing.TB, token string) string {
	tb.Helper()
	id, err := flow.TokenUserID(token)
	if err != nil {
		tb.Fatalf("%v", err)
	}
	return id
}

// appHost is the host name of the site's URL: the domain its cookie is set for.
func appHost(tb testing.TB, appURL string) string {
	tb.Helper()
	u, err := url.Parse(appURL)
	if err != nil {
		tb.Fatalf("site URL %q: %v", appURL, err)
	}
	return u.Hostname()
}

// user reads the visitor's user from the target's FusionAuth.
func user(tb testing.TB, j *journey) map[string]any {
	tb.Helper()
	u, ok := j.tg.User(tb, j.userID)
	if !ok {
		tb.Fatalf("user %s: got none in FusionAuth, want the visitor's user", j.userID)
	}
	return u
}

func data(u map[string]any) map[string]any {
	d, _ := u["data"].(map[string]any)
	return d
}
