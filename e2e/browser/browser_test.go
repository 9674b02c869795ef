package browser_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
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
	"github.com/changebank/anonuser/shared/kickstart"
)

const (
	journeyTimeout = 150 * time.Second
	cookieName     = "anon_user"
	sessionName    = "session"
	cookieLifetime = 365 * 24 * time.Hour // DESIGN: the visitor cookie lives one year
	visitorPass    = "Correct-Horse-Battery-9"
	sentNotice     = "Please check your email."
)

// journey is the state the steps of the test share: tab A walks the product from a
// first anonymous visit to a converted account that is signed in; B is a second device
// of the same person; C is another person, with a profile of their own, who signs in to
// an existing account.
type journey struct {
	tab       context.Context // chromedp context of tab A
	current   context.Context // the device a later step goes on with
	tg        *flow.Target    // where the journey runs (e2e/flow: in-memory by default, APP_URL for a running stack)
	shots     string          // directory of the screenshots
	shotN     int
	email     string            // A's address, fresh each run (a real FusionAuth keeps old ones)
	userID    string            // A's FusionAuth user, read from the cookie token
	oldCookie string            // A's anonymous cookie from before sign-in
	count     int               // the account's count as A left it
	account   int               // the regular user's count before C merges into it
	regular   map[string]string // kickstart's regular user: regularUserId, regularEmail, regularPassword
	closers   []context.CancelFunc
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
	regular, err := kickstart.RepoVariables()
	if err != nil {
		t.Fatal(err)
	}
	j := &journey{tab: tab, current: tab, tg: tg, shots: shots, email: flow.UniqueEmail("ada.lovelace"), regular: regular}
	defer func() {
		for _, c := range j.closers {
			c()
		}
	}()
	steps := []struct {
		name string
		run  func(t *testing.T, j *journey)
	}{
		{"first visit starts a profile with an HttpOnly cookie", firstVisit},
		{"reload counts a second watch", reloadCounts},
		{"register form sends the set-password email", requestAccount},
		{"outbox link sets a password on FusionAuth", setPassword},
		{"A: login converts the profile and lands signed in on /video", logIn},
		{"A: the signed-in account keeps its history and counts on", convertedAccount},
		{"the old anonymous cookie no longer reaches the account", oldCookie},
		{"the used set-password link offers a new one", usedLink},
		{"B: a second device signs in, sees the count and counts on", secondDevice},
		{"D: the regular user's account has watched at least 5 times", regularAccount},
		{"C: a stub of 3 merges into an existing account of 5", mergeIntoAccount},
		{"C: logout ends the session; /video no longer counts on the account", logOut},
		{"a refused sign-in says what happened and offers to try again", refusedSignIn},
		{"F: the page reports watch time and shows it", watchTime},
		{"G: /me shows the profile, downloads it, forgets it; the next visit starts fresh", yourData},
		{"E: past its address's limit of new profiles, a newcomer watches uncounted", overLimit},
		{"H: the local funnel counts what the journey did", localFunnel},
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

// device opens a tab in a browser context of its own: another device, with its own
// cookies, closed when the journey ends (a later step may use it).
func (j *journey) device(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(j.tab, chromedp.WithNewBrowserContext())
	j.closers = append(j.closers, cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a new browser context: %v", err)
	}
	return ctx
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
	wantHeader(t, j.tab, "")
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

// setPassword: the outbox shows the email; its link opens FusionAuth's page, in
// ChangeBank's look with the password rules shown, where the visitor sets a password.
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
	wantThemed(t, j.tab)
	if rules := bodyText(t, j.tab); j.tg.Embedded() && !strings.Contains(rules, "be between 8 and 256 characters long") {
		t.Errorf("set-password page: got text %q, want the password rules before submitting", rules)
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

// logIn: one click from the confirmation leads to FusionAuth's login page with the
// address filled in; the login comes back through /callback to /video, signed in,
// with the code gone from the address bar and the anonymous cookie replaced by the
// session; the way back is not counted as a watch.
func logIn(t *testing.T, j *journey) {
	j.oldCookie = visitorCookie(t, j.tab, j.tg.AppURL).Value
	if j.tg.Embedded() {
		// The stand-in's "Log in" after the password is set, with the address filled in.
		wantStatus(t, clickAndLoad(t, j.tab, "#link"), 200)
		do(t, j.tab, "wait for the login form", chromedp.WaitVisible(chromedp.CSS("#loginId")))
		if got := run(t, j.tab, "read the login id", chromedp.Value(chromedp.CSS("#loginId"))); got != j.email {
			t.Errorf("login id on FusionAuth's login page after setting a password: got %q, want %q filled in", got, j.email)
		}
	} else {
		// FusionAuth's own "password changed" page has no link: the person opens the
		// site's "Log in".
		wantStatus(t, navigate(t, j.tab, j.tg.AppURL+"/login"), 200)
		do(t, j.tab, "type the address", chromedp.WaitVisible(chromedp.CSS("#loginId")), chromedp.SendKeys(chromedp.CSS("#loginId"), j.email))
	}
	wantThemed(t, j.tab)
	do(t, j.tab, "type the password", chromedp.SendKeys(chromedp.CSS("#password"), visitorPass))
	j.screenshot(t, "fusionauth-login")

	resp := clickAndLoad(t, j.tab, submitButton("#loginId"))
	wantStatus(t, resp, 200)
	wantLocation(t, j.tab, j.tg.AppURL+"/video")
	if got, want := watchCount(t, j.tab), 2; got != want {
		t.Errorf("watch count after login: got %d, want %d (the way back from the login is not a watch)", got, want)
	}
	wantHeader(t, j.tab, j.email)
	j.screenshot(t, "A-video-signed-in")
	if c := cookieNamed(t, j.tab, j.tg.AppURL, cookieName); c != nil {
		t.Errorf("anonymous cookie after sign-in: got %s, want it replaced by the session", c.Value)
	}
	s := cookieNamed(t, j.tab, j.tg.AppURL, sessionName)
	if s == nil || !s.HTTPOnly || !s.Secure || s.SameSite != network.CookieSameSiteLax || s.Path != "/" {
		t.Errorf("session cookie: got %+v, want HttpOnly Secure SameSite=Lax Path=/", s)
	}
}

// convertedAccount: FusionAuth holds a regular user with the history; the signed-in
// person counts on it; /register sends them to the video.
func convertedAccount(t *testing.T, j *journey) {
	u := user(t, j)
	d := data(u)
	if got, want := d["anonymousUser"], any(false); got != want {
		t.Errorf("user %s data.anonymousUser after login: got %v, want %v", j.userID, got, want)
	}
	if name, ok := u["username"]; ok && name != nil && name != "" {
		t.Errorf("user %s username after login: got %v, want none", j.userID, name)
	}
	if _, ok := d["convertedAt"]; !ok {
		t.Errorf("user %s data.convertedAt after login: got none, want the conversion time", j.userID)
	}
	do(t, j.tab, "reload /video", chromedp.Reload())
	if got, want := watchCount(t, j.tab), 3; got != want {
		t.Errorf("watch count signed in, after a reload: got %d, want %d", got, want)
	}
	if got := fmt.Sprint(data(user(t, j))["watchCount"]); got != "3" {
		t.Errorf("user %s data.watchCount: got %s, want 3", j.userID, got)
	}
	j.count = 3
	resp := navigate(t, j.tab, j.tg.AppURL+"/register")
	wantStatus(t, resp, 200)
	wantLocation(t, j.tab, j.tg.AppURL+"/video")
	j.count++ // the redirect to /video is a visit of the page
}

// oldCookie: someone who kept the anonymous cookie from before the conversion (another
// browser, the same device before sign-in) gets no count and no address; the cookie
// is cleared and the page invites them to sign in.
func oldCookie(t *testing.T, j *journey) {
	d := j.device(t)
	u, _ := url.Parse(j.tg.AppURL)
	yes := true
	if _, err := chromedp.Call(d, network.SetCookie, network.SetCookieParams{Name: cookieName, Value: j.oldCookie, Domain: u.Hostname(), Path: "/",
		HTTPOnly: &yes, Secure: &yes, SameSite: network.CookieSameSiteLax}); err != nil {
		t.Fatalf("set the old cookie: %v", err)
	}
	wantStatus(t, navigate(t, d, j.tg.AppURL+"/video"), 200)
	do(t, d, "wait for the invitation", chromedp.WaitVisible(chromedp.CSS("#sign-in-invite")))
	text := bodyText(t, d)
	if strings.Contains(text, j.email) || strings.Contains(text, "You have watched") {
		t.Errorf("/video with the old cookie: got text %q, want no count and no address", text)
	}
	if c := cookieNamed(t, d, j.tg.AppURL, cookieName); c != nil {
		t.Errorf("old cookie after /video: got it kept, want it cleared")
	}
	j.screenshot2(t, d, "old-cookie-invited-to-sign-in")
	if got := fmt.Sprint(data(user(t, j))["watchCount"]); got != fmt.Sprint(j.count) {
		t.Errorf("account count after the old cookie's visit: got %s, want %d", got, j.count)
	}
}

// usedLink: the set-password link, opened again after use, says it expired and offers
// to send a new one, in ChangeBank's look.
func usedLink(t *testing.T, j *journey) {
	d := j.device(t)
	navigate(t, d, j.tg.EmailLink(t, j.email))
	wantThemed(t, d)
	if text := bodyText(t, d); j.tg.Embedded() && (!strings.Contains(text, "expired") || !strings.Contains(text, "Send me a new link")) {
		t.Errorf("used link page: got text %q, want it to say the link expired and offer a new one", text)
	}
	j.screenshot2(t, d, "fusionauth-link-expired")
}

// secondDevice: B opens the log-in page, signs in, and sees the count A left; its
// visits count on.
func secondDevice(t *testing.T, j *journey) {
	b := j.device(t)
	wantStatus(t, navigate(t, b, j.tg.AppURL+"/login"), 200)
	do(t, b, "sign in on FusionAuth",
		chromedp.WaitVisible(chromedp.CSS("#loginId")),
		chromedp.SendKeys(chromedp.CSS("#loginId"), j.email),
		chromedp.SendKeys(chromedp.CSS("#password"), visitorPass),
	)
	j.screenshot2(t, b, "B-fusionauth-login")
	wantStatus(t, clickAndLoad(t, b, submitButton("#loginId")), 200)
	wantLocation(t, b, j.tg.AppURL+"/video")
	if got := watchCount(t, b); got != j.count {
		t.Errorf("B after sign-in: got %d, want %d (A's count)", got, j.count)
	}
	wantHeader(t, b, j.email)
	j.screenshot2(t, b, "B-video-signed-in")
	do(t, b, "reload /video", chromedp.Reload())
	j.count++
	if got := watchCount(t, b); got != j.count {
		t.Errorf("B counts on: got %d, want %d", got, j.count)
	}
	do(t, j.tab, "reload /video on A", chromedp.Reload())
	j.count++
	if got := watchCount(t, j.tab); got != j.count {
		t.Errorf("A after B's visits: got %d, want %d", got, j.count)
	}
}

// regularAccount: D signs in as kickstart's regular user and watches until the account
// has at least 5 (exactly 5 on a fresh stack; a real FusionAuth keeps earlier runs'
// watches), then logs out.
func regularAccount(t *testing.T, j *journey) {
	d := j.device(t)
	wantStatus(t, navigate(t, d, j.tg.AppURL+"/login"), 200)
	do(t, d, "sign in as the regular user",
		chromedp.WaitVisible(chromedp.CSS("#loginId")),
		chromedp.SendKeys(chromedp.CSS("#loginId"), j.regular["regularEmail"]),
		chromedp.SendKeys(chromedp.CSS("#password"), j.regular["regularPassword"]),
	)
	wantStatus(t, clickAndLoad(t, d, submitButton("#loginId")), 200)
	wantLocation(t, d, j.tg.AppURL+"/video")
	for j.account = watchCount(t, d); j.account < 5; j.account = watchCount(t, d) {
		do(t, d, "reload", chromedp.Reload())
	}
	do(t, d, "click Log out", chromedp.Click(chromedp.CSS("#nav-logout")))
	waitLocation(t, d, j.tg.AppURL+"/video", 10*time.Second)
}

// mergeIntoAccount: C watches three times anonymously, then logs in to the regular
// user's existing account (5 on a fresh stack): the account shows 3 more, the stub is
// deleted and C's anonymous cookie is gone.
func mergeIntoAccount(t *testing.T, j *journey) {
	c := j.device(t)
	wantStatus(t, navigate(t, c, j.tg.AppURL+"/video"), 200)
	do(t, c, "reload", chromedp.Reload())
	do(t, c, "reload", chromedp.Reload())
	if got := watchCount(t, c); got != 3 {
		t.Fatalf("C's anonymous count: got %d, want 3", got)
	}
	stubID := tokenUserID(t, cookieNamed(t, c, j.tg.AppURL, cookieName).Value)
	j.screenshot2(t, c, "C-video-anonymous-3")
	wantStatus(t, clickAndLoad(t, c, "#nav-login"), 200)
	email := j.regular["regularEmail"]
	do(t, c, "sign in as the regular user",
		chromedp.WaitVisible(chromedp.CSS("#loginId")),
		chromedp.SendKeys(chromedp.CSS("#loginId"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), j.regular["regularPassword"]),
	)
	wantStatus(t, clickAndLoad(t, c, submitButton("#loginId")), 200)
	wantLocation(t, c, j.tg.AppURL+"/video")
	if got := watchCount(t, c); got != j.account+3 {
		t.Errorf("C after signing in to the account of %d: got %d, want %d", j.account, got, j.account+3)
	}
	wantHeader(t, c, email)
	j.screenshot2(t, c, fmt.Sprintf("C-video-merged-%d", j.account+3))
	if _, ok := j.tg.User(t, stubID); ok {
		t.Errorf("C's stub %s after the merge: still there, want deleted", stubID)
	}
	if ck := cookieNamed(t, c, j.tg.AppURL, cookieName); ck != nil {
		t.Error("C's anonymous cookie after the merge: kept, want cleared")
	}
	j.account += 3
	j.current = c // the next step logs C out
}

// logOut: "Log out" ends the session and FusionAuth's SSO session and comes back to
// /video, which no longer counts on the account; logging in again asks for the password.
func logOut(t *testing.T, j *journey) {
	c, id := j.current, j.regular["regularUserId"]
	do(t, c, "click Log out", chromedp.Click(chromedp.CSS("#nav-logout")))
	waitLocation(t, c, j.tg.AppURL+"/video", 10*time.Second)
	do(t, c, "wait for the page", chromedp.WaitVisible(chromedp.CSS("#signed-out")))
	wantHeader(t, c, "")
	if text := bodyText(t, c); strings.Contains(text, "You have watched") {
		t.Errorf("/video after logout: got text %q, want no count (nothing counted, no new profile on this landing)", text)
	}
	j.screenshot2(t, c, "C-video-after-logout")
	if ck := cookieNamed(t, c, j.tg.AppURL, sessionName); ck != nil {
		t.Error("session cookie after logout: kept, want cleared")
	}
	u, _ := j.tg.User(t, id)
	if got := fmt.Sprint(data(u)["watchCount"]); got != fmt.Sprint(j.account) {
		t.Errorf("account count after logout and a visit of /video: got %v, want %d", got, j.account)
	}
	wantStatus(t, clickAndLoad(t, c, "#log-in"), 200)
	do(t, c, "wait for FusionAuth's login form", chromedp.WaitVisible(chromedp.CSS("#loginId")))
	j.screenshot2(t, c, "C-fusionauth-login-after-logout")
	if loc := location(t, c); !strings.HasPrefix(loc, j.tg.FusionAuthURL+"/oauth2/authorize") {
		t.Errorf("Log in after logout: got %s, want FusionAuth's login form (its SSO session ended)", loc)
	}
	j.current = j.tab
}

// refusedSignIn: a sign-in FusionAuth refused (or a stale link) lands on a page in
// the site's look that says so and offers to sign in again.
func refusedSignIn(t *testing.T, j *journey) {
	d := j.device(t)
	resp := navigate(t, d, j.tg.AppURL+"/callback?error=access_denied&error_reason=consent_canceled&state=stale")
	wantStatus(t, resp, 403)
	do(t, d, "wait for the try-again link", chromedp.WaitVisible(chromedp.CSS("#try-again")))
	j.screenshot2(t, d, "signin-refused")
	wantStatus(t, navigate(t, d, j.tg.AppURL+"/callback?code=stale-code&state=stale"), 400)
	j.screenshot2(t, d, "signin-stale-link")
}

// watchTime: a fresh visitor plays 3 s of the video; the page's script reports them
// with a beacon when playback pauses, FusionAuth holds them, and the next visit shows
// "3 s in all". The machine has no network, so the media itself cannot load: the
// video element's playback is driven by script (its time and events), and everything
// after that (the page's own script under its CSP, the beacon, the endpoint, the cap
// by the visit's wall time) is real.
func watchTime(t *testing.T, j *journey) {
	f := j.device(t)
	wantStatus(t, navigate(t, f, j.tg.AppURL+"/video"), 200)
	id := tokenUserID(t, visitorCookie(t, f, j.tg.AppURL).Value)
	time.Sleep(3500 * time.Millisecond) // the visit must have lasted the 3 s it reports
	run(t, f, "play 3 s", chromedp.Evaluate[bool](`(() => {
		const v = document.getElementById("video"); let t = 0;
		Object.defineProperty(v, "currentTime", {get: () => t, configurable: true});
		v.dispatchEvent(new Event("playing"));
		for (let i = 1; i <= 6; i++) { t = i * 0.5; v.dispatchEvent(new Event("timeupdate")); }
		v.dispatchEvent(new Event("pause"));
		return true;
	})()`))
	flow.Eventually(t, 10*time.Second, "the watch time reaches FusionAuth", func() bool {
		u, ok := j.tg.User(t, id)
		return ok && fmt.Sprint(data(u)["watchSeconds"]) == "3"
	})
	wantStatus(t, navigate(t, f, j.tg.AppURL+"/video"), 200)
	if got := run(t, f, "read the watch time", chromedp.Text(chromedp.CSS("#watch-time"))); got != "3 s" {
		t.Errorf("watch time on the page: got %q, want %q", got, "3 s")
	}
	j.screenshot2(t, f, "F-video-watch-time")
}

// yourData: a visitor opens /me from the footer, sees what is recorded, downloads it,
// deletes it, and the next visit starts a new profile.
func yourData(t *testing.T, j *journey) {
	g := j.device(t)
	wantStatus(t, navigate(t, g, j.tg.AppURL+"/video"), 200)
	id := tokenUserID(t, visitorCookie(t, g, j.tg.AppURL).Value)
	resp := clickAndLoad(t, g, "#your-data")
	wantStatus(t, resp, 200)
	table := run(t, g, "read the table", chromedp.Text(chromedp.CSS("#recorded")))
	if !strings.Contains(table, "How many times you opened the video page") || !strings.Contains(table, "Your first visit") {
		t.Errorf("/me table: got %q, want the count and the first visit in plain words", table)
	}
	j.screenshot2(t, g, "G-me")
	exported := run(t, g, "download the data", chromedp.Evaluate[string](`fetch("/me/data.json").then(r => r.text())`, chromedp.EvalAwaitPromise))
	if !strings.Contains(exported, id) || strings.Contains(exported, `"username"`) || strings.Contains(exported, `"password"`) {
		t.Errorf("download: got %.300s, want the profile without username or password", exported)
	}
	do(t, g, "confirm", chromedp.Click(chromedp.CSS(`#forget input[name=confirm]`)))
	wantStatus(t, clickAndLoad(t, g, "#forget button"), 200)
	do(t, g, "wait for the notice", chromedp.WaitVisible(chromedp.CSS("#forgotten")))
	j.screenshot2(t, g, "G-me-forgotten")
	if _, ok := j.tg.User(t, id); ok {
		t.Errorf("user %s after forget: still in FusionAuth, want deleted", id)
	}
	if c := cookieNamed(t, g, j.tg.AppURL, cookieName); c != nil {
		t.Errorf("visitor cookie after forget: got one, want none")
	}
	wantStatus(t, clickAndLoad(t, g, "#start-fresh"), 200)
	if got := watchCount(t, g); got != 1 {
		t.Errorf("the next visit: count %d, want 1 (a new profile)", got)
	}
	if fresh := tokenUserID(t, visitorCookie(t, g, j.tg.AppURL).Value); fresh == id {
		t.Errorf("the next visit: the old profile's id, want a new one")
	}
}

// overLimit: this machine's address spends what is left of its hour's new profiles
// (plain HTTP first visits, as a flooding script would), then a fresh browser from the
// same address gets the page with the video and a notice, no count and no cookie.
func overLimit(t *testing.T, j *journey) {
	started := 0
	for ; started <= 60; started++ {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, j.tg.AppURL+"/video", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("User-Agent", flow.BrowserUserAgent)
		req.Header.Set("Sec-Fetch-Mode", "navigate")
		req.Header.Set("Sec-Fetch-Dest", "document")
		resp, _ := flow.Do(t, http.DefaultClient, req)
		if !slices.ContainsFunc(resp.Cookies(), func(c *http.Cookie) bool { return c.Name == cookieName }) {
			break
		}
	}
	if started > 30 {
		t.Fatalf("first visits from one address: %d started a profile, want at most 30 an hour", started)
	}
	e := j.device(t)
	resp := navigate(t, e, j.tg.AppURL+"/video")
	wantStatus(t, resp, 200)
	do(t, e, "wait for the notice", chromedp.WaitVisible(chromedp.CSS("#not-kept")))
	notice := run(t, e, "read the notice", chromedp.Text(chromedp.CSS("#not-kept")))
	if !strings.Contains(notice, "not being recorded") {
		t.Errorf("notice: got %q, want it to say this visit is not recorded", notice)
	}
	if n := run(t, e, "count the watch counts", chromedp.Evaluate[int](`document.querySelectorAll("#watch-count").length`)); n != 0 {
		t.Errorf("watch count shown past the limit: got %d, want none", n)
	}
	if n := run(t, e, "count the videos", chromedp.Evaluate[int](`document.querySelectorAll("video").length`)); n != 1 {
		t.Errorf("videos on the page: got %d, want 1 (the page still plays)", n)
	}
	if c := cookieNamed(t, e, j.tg.AppURL, cookieName); c != nil {
		t.Errorf("visitor cookie past the limit: got one, want none")
	}
	j.screenshot2(t, e, "E-video-over-limit")
}

// localFunnel: after the journey, the local stack's /_local/funnel charts each step the
// journey took (from the metrics the functions emitted) and counts the users FusionAuth
// holds. A running stack has no such page: its funnel is the CloudWatch dashboard.
func localFunnel(t *testing.T, j *journey) {
	if !j.tg.Embedded() {
		t.Skip("a running stack's funnel is its CloudWatch dashboard; /_local/funnel is the local stack's")
	}
	resp := navigate(t, j.tab, j.tg.AppURL+"/_local/funnel")
	wantStatus(t, resp, 200)
	do(t, j.tab, "wait for the chart", chromedp.WaitVisible(chromedp.CSS(`svg[aria-label="funnel chart"]`)))
	bars := run(t, j.tab, "read the bars", chromedp.Evaluate[[]string](`[...document.querySelectorAll("rect.bar title")].map(t => t.textContent)`))
	counts := map[string]int{}
	for _, b := range bars {
		name, n, _ := strings.Cut(b, ": ")
		counts[name], _ = strconv.Atoi(n)
	}
	// What the steps above did, at least: A, B, C and G's visitors each started a profile
	// (and E's flood did), A asked for an address, A and C's accounts signed in (B
	// too), C's stub merged, G forgot, E was refused.
	for metric, least := range map[string]int{
		"StubCreated": 4, "EmailRequested": 1, "Converted": 1, "SignedIn": 3, "Merged": 1,
		"Forgotten": 1, "ClientOverLimit": 1,
	} {
		if counts[metric] < least {
			t.Errorf("funnel %s: got %d, want at least %d (bars %q)", metric, counts[metric], least, bars)
		}
	}
	for _, none := range []string{"WatchDropped", "ServerError"} {
		if counts[none] != 0 {
			t.Errorf("funnel %s: got %d, want 0 (nothing failed on the journey)", none, counts[none])
		}
	}
	anonymous, err := strconv.Atoi(run(t, j.tab, "read the census", chromedp.Text(chromedp.CSS("#anonymous"))))
	if err != nil || anonymous < 1 {
		t.Errorf("census of anonymous profiles: %d %v, want at least G's fresh one", anonymous, err)
	}
	j.screenshot(t, "H-local-funnel")
}

// wantHeader checks the header: signed in as email (with "Log out" and no "Create
// account"), or, for "", not signed in ("Log in" and "Create account").
func wantHeader(t *testing.T, ctx context.Context, email string) {
	t.Helper()
	nav := run(t, ctx, "read the header", chromedp.Text(chromedp.CSS("header nav")))
	if email != "" {
		if !strings.Contains(nav, email) || !strings.Contains(nav, "Log out") || strings.Contains(nav, "Create account") || strings.Contains(nav, "Log in") {
			t.Errorf("header signed in: got %q, want %s and Log out, no Create account or Log in", nav, email)
		}
		return
	}
	if !strings.Contains(nav, "Log in") || !strings.Contains(nav, "Create account") || strings.Contains(nav, "Log out") {
		t.Errorf("header not signed in: got %q, want Log in and Create account", nav)
	}
}

// wantThemed checks that FusionAuth's page carries the ChangeBank theme's stylesheet.
func wantThemed(t *testing.T, ctx context.Context) {
	t.Helper()
	brand := run(t, ctx, "read the theme", chromedp.Evaluate[string](`getComputedStyle(document.documentElement).getPropertyValue('--cb-brand').trim()`))
	if brand != "#0b6e4f" {
		t.Errorf("FusionAuth page theme: --cb-brand %q, want #0b6e4f (kickstart/theme/changebank.css)", brand)
	}
}

// waitLocation waits until the tab shows want (FusionAuth's logout page goes on by
// itself after two seconds).
func waitLocation(t *testing.T, ctx context.Context, want string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		if got := location(t, ctx); got == want {
			return
		} else if time.Now().After(deadline) {
			t.Fatalf("location: got %s after %s, want %s", got, limit, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
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
		root, err := kickstart.ModuleRoot()
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

// screenshot saves a full-page PNG of tab A's page and logs its path.
func (j *journey) screenshot(tb testing.TB, name string) {
	tb.Helper()
	j.screenshot2(tb, j.tab, name)
}

// screenshot2 saves a full-page PNG of the page of ctx and logs its path.
func (j *journey) screenshot2(tb testing.TB, ctx context.Context, name string) {
	tb.Helper()
	img := run(tb, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
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
	c := cookieNamed(tb, ctx, site, cookieName)
	if c == nil {
		tb.Fatalf("cookies for %s: got none named %s, want one", site, cookieName)
	}
	return c
}

// cookieNamed returns the browser's cookie name for the site, nil when it has none.
func cookieNamed(tb testing.TB, ctx context.Context, site, name string) *network.Cookie {
	tb.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{site}})
	if err != nil {
		tb.Fatalf("read cookies: %v", err)
	}
	for _, c := range res.Cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// submitButton selects the button of the form holding the field: the stand-in's pages
// and FusionAuth's themed ones both put one submit button in the form.
func submitButton(field string) string { return "form:has(" + field + ") button" }

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

// user reads A's user from the target's FusionAuth.
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
