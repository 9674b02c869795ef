package site_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/site"
)

// countIn reads the watch count the page shows, -1 when it shows none.
func countIn(page string) int {
	var n int
	i := strings.Index(page, `id="watch-count"`)
	if i < 0 {
		return -1
	}
	rest := page[i:]
	j := strings.Index(rest, "<strong>")
	if j < 0 {
		return -1
	}
	if _, err := fmt.Sscanf(rest[j+len("<strong>"):], "%d", &n); err != nil {
		return -1
	}
	return n
}

// watcher is a browser whose anonymous profile watched n times, and that profile.
func (e *env) watcher(tb testing.TB, n int) (*browser, string) {
	tb.Helper()
	b := e.newBrowser(tb)
	for range n {
		b.watch(tb)
	}
	return b, mustVerify(tb, e, b.cookie(cookieName).Value)
}

// convertibleStub is a visitor that watched twice, gave an address and set a password
// through the emailed link: it can log in, and it is still a stub.
func (e *env) convertibleStub(tb testing.TB, b *browser, email, password string) string {
	tb.Helper()
	b.watch(tb)
	b.watch(tb)
	stubID := mustVerify(tb, e, b.cookie(cookieName).Value)
	if resp := e.post(tb, b.cookie(cookieName).Value, email, nil); resp.StatusCode != http.StatusSeeOther {
		tb.Fatalf("register: %d, want 303 to the check-your-email page", resp.StatusCode)
	}
	out := e.fa.Outbox()
	// The person reads the email a moment later: the password is set after the stub
	// was created, which is what proves the address (anon.ProvedAddress).
	e.clock.Advance(2 * time.Second)
	anonClient, _ := faclient.New(faclient.Options{BaseURL: e.fa.URL()})
	if _, err := anonClient.ChangePassword(context.Background(), out[len(out)-1].ChangePasswordID, faclient.ChangePasswordRequest{Password: password}); err != nil {
		tb.Fatalf("set password: %v", err)
	}
	return stubID
}

// TestSignInCompletesTheConversion: the visitor's cookie names the stub that signs in;
// the callback converts it even when the login webhook never arrived, replaces the
// anonymous cookie with the session and lands on /video without counting a watch.
func TestSignInCompletesTheConversion(t *testing.T) {
	e := newEnv(t)
	b := e.newBrowser(t)
	stubID := e.convertibleStub(t, b, "ada@example.com", "Correct-Horse-Battery-9")
	e.hookDown.Store(true) // FusionAuth's delivery fails and is not retried (transactionType None)
	callback := b.logInAtFusionAuth(t, "ada@example.com", "Correct-Horse-Battery-9")
	if u := e.user(t, stubID); u.Data["anonymousUser"] != true {
		t.Fatalf("user converted before the callback (%v): the webhook was meant to fail", u.Data)
	}
	e.fa.ResetCalls()
	resp := b.get(t, callback)
	wantSignedIn(t, resp)
	// One token call, the JWKS (first ID token of this function), and the conversion:
	// read, patch.
	if got := e.fa.TotalCalls(); got != 4 || e.fa.Calls("POST /oauth2/token") != 1 || e.fa.Calls("GET /.well-known/jwks.json") != 1 {
		t.Errorf("FusionAuth calls at the callback: %d, want 4 (token, JWKS, read, patch)", got)
	}
	if c := cookieNamed(resp, cookieName); c == nil || c.MaxAge >= 0 {
		t.Errorf("visitor cookie after sign-in: %v, want it cleared (the session replaces it)", c)
	}
	u := e.user(t, stubID)
	if u.Data["anonymousUser"] != false || u.Data["convertedAt"] == nil || u.Username != "" {
		t.Errorf("after sign-in: username %q data %v, want converted", u.Username, u.Data)
	}
	e.fa.ResetCalls()
	page := b.watch(t)
	if got := countIn(page); got != 2 || !strings.Contains(page, "ada@example.com") || !strings.Contains(page, `id="nav-logout"`) || strings.Contains(page, "Create account") {
		t.Errorf("landing after sign-in: count %d, want 2 (the redirect is not a watch), the address and Log out, no Create account", got)
	}
	if got := e.fa.TotalCalls(); got != 1 {
		t.Errorf("FusionAuth calls of the landing: %d, want 1 (read)", got)
	}
	if got := countIn(b.watch(t)); got != 3 {
		t.Errorf("next visit: count %d, want 3 (counted on the account)", got)
	}
	// The webhook, arriving late, changes nothing: the same conversion, done once.
	e.hookDown.Store(false)
	converted := e.user(t, stubID).Data["convertedAt"]
	if _, err := e.admin.Login(context.Background(), faclient.LoginRequest{LoginID: "ada@example.com", Password: "Correct-Horse-Battery-9", ApplicationID: e.fa.Variable("applicationId")}); err != nil {
		t.Fatal(err)
	}
	if got := e.user(t, stubID).Data["convertedAt"]; got != converted {
		t.Errorf("convertedAt %v after the late webhook, want %v unchanged", got, converted)
	}
}

// TestSecondDeviceSeesTheCount: a person who signs in on a second device sees the count
// of the first and counts on; each sign-in costs one token call (plus the JWKS once per
// function instance) and the landing one read.
func TestSecondDeviceSeesTheCount(t *testing.T) {
	e := newEnv(t)
	id, email, password := e.regular()
	e.setWatchCount(t, id, 5)
	first, second := e.newBrowser(t), e.newBrowser(t)
	wantSignedIn(t, first.signIn(t, email, password))
	if got := countIn(first.watch(t)); got != 5 {
		t.Fatalf("first device after sign-in: %d, want 5", got)
	}
	if got := countIn(first.watch(t)); got != 6 {
		t.Fatalf("first device counts on: %d, want 6", got)
	}
	callback := second.logInAtFusionAuth(t, email, password)
	e.fa.ResetCalls()
	wantSignedIn(t, second.get(t, callback))
	if got, token := e.fa.TotalCalls(), e.fa.Calls("POST /oauth2/token"); got != 1 || token != 1 {
		t.Errorf("FusionAuth calls at a second sign-in: %d, want 1 (the token exchange; keys cached)", got)
	}
	if got := countIn(second.watch(t)); got != 6 {
		t.Errorf("second device after sign-in: %d, want 6 (the first device's count)", got)
	}
	if got := countIn(second.watch(t)); got != 7 {
		t.Errorf("second device counts on: %d, want 7", got)
	}
	if got := countIn(first.watch(t)); got != 8 {
		t.Errorf("first device again: %d, want 8", got)
	}
}

// TestMergeIntoExistingAccount: a visitor with a stub of 3 watches signs in to an
// existing account with 5: the account has 8, the stub is gone, the anonymous cookie
// is cleared; replaying the callback merges nothing twice.
func TestMergeIntoExistingAccount(t *testing.T) {
	e := newEnv(t)
	id, email, password := e.regular()
	e.setWatchCount(t, id, 5)
	b, stubID := e.watcher(t, 3)
	callback := b.logInAtFusionAuth(t, email, password)
	flow := *b.cookie("signin_flow")
	visitor := *b.cookie(cookieName)
	e.fa.ResetCalls()
	resp := b.get(t, callback)
	wantSignedIn(t, resp)
	if got := e.fa.TotalCalls(); got != 6 || e.fa.Calls("DELETE /api/user/{userId}") != 1 {
		t.Errorf("FusionAuth calls at a merging sign-in: %d, want 6 (token, JWKS, read stub, read account, patch, delete)", got)
	}
	if c := cookieNamed(resp, cookieName); c == nil || c.MaxAge >= 0 {
		t.Errorf("visitor cookie after the merge: %v, want it cleared", c)
	}
	if _, err := e.admin.RetrieveUser(context.Background(), stubID); !faclient.IsNotFound(err) {
		t.Errorf("stub after the merge: %v, want it deleted (404)", err)
	}
	u := e.user(t, id)
	if u.Data["watchCount"] != float64(8) || !strings.Contains(fmt.Sprint(u.Data["mergedStubs"]), stubID) {
		t.Errorf("account after the merge: data %v, want watchCount 8 and the stub recorded", u.Data)
	}
	if got := countIn(b.watch(t)); got != 8 {
		t.Errorf("landing after the merge: %d, want 8", got)
	}
	// The callback replayed with the same code, flow and visitor cookie: refused, and
	// nothing added twice.
	replay := e.newBrowser(t)
	replay.site["signin_flow"], replay.site[cookieName] = &flow, &visitor
	resp = replay.get(t, callback)
	if resp.StatusCode != http.StatusBadRequest || cookieNamed(resp, site.DefaultSessionCookie) != nil {
		t.Errorf("replayed callback: status %d, session %v; want 400 and no session", resp.StatusCode, cookieNamed(resp, site.DefaultSessionCookie))
	}
	if got := e.user(t, id).Data["watchCount"]; got != float64(8) {
		t.Errorf("account after the replay: %v, want 8", got)
	}
}

// TestConcurrentVisitsWhileMerging: 100 signed-in visits on the account, 20 at a time,
// while another device signs in and merges a stub of 3 into it: every visit counts and
// the merge adds exactly 3; neither write undoes the other.
func TestConcurrentVisitsWhileMerging(t *testing.T) {
	e := newEnv(t)
	e.racy(t)
	id, email, password := e.regular()
	e.setWatchCount(t, id, 5)
	a := e.newBrowser(t)
	wantSignedIn(t, a.signIn(t, email, password))
	session := &http.Cookie{Name: site.DefaultSessionCookie, Value: a.cookie(site.DefaultSessionCookie).Value}
	c, _ := e.watcher(t, 3)
	callback := c.logInAtFusionAuth(t, email, password)
	var wg sync.WaitGroup
	counted := 0
	wg.Go(func() { counted = e.visitConcurrentlyAs(t, session, 100, 20) })
	wg.Go(func() { wantSignedIn(t, c.get(t, callback)) })
	wg.Wait()
	if got := e.user(t, id).Data["watchCount"]; counted != 100 || got != float64(5+100+3) {
		t.Errorf("watchCount=%v with %d visits counted, want 108 (5, 100 visits, the stub's 3)", got, counted)
	}
	if strings.Contains(e.logText(), "droppedWatches") {
		t.Errorf("a watch was dropped:\n%s", e.logText())
	}
}

// TestMergeSurvivesAFailedDelete: when the stub's delete fails, the sign-in is refused
// with the visitor cookie kept; signing in again finds the stub recorded on the account
// and deletes it without adding its count twice.
func TestMergeSurvivesAFailedDelete(t *testing.T) {
	e := newEnv(t)
	id, email, password := e.regular()
	e.setWatchCount(t, id, 5)
	b, stubID := e.watcher(t, 3)
	e.fa.InjectFault("DELETE /api/user/{userId}", http.StatusInternalServerError, 1)
	resp := b.signIn(t, email, password)
	if resp.StatusCode != http.StatusServiceUnavailable || cookieNamed(resp, site.DefaultSessionCookie) != nil || b.cookie(cookieName) == nil {
		t.Fatalf("sign-in whose delete failed: status %d, want 503, no session, the visitor cookie kept", resp.StatusCode)
	}
	if got := e.user(t, id).Data["watchCount"]; got != float64(8) {
		t.Fatalf("account after the failed delete: %v, want 8", got)
	}
	wantSignedIn(t, b.get(t, b.logInAtFusionAuth(t, email, ""))) // FusionAuth's SSO session: no password asked
	if got := e.user(t, id).Data["watchCount"]; got != float64(8) {
		t.Errorf("account after signing in again: %v, want still 8", got)
	}
	if _, err := e.admin.RetrieveUser(context.Background(), stubID); !faclient.IsNotFound(err) {
		t.Errorf("stub after signing in again: %v, want deleted", err)
	}
}

// TestCallbackRefusals: each way a callback can be wrong or forged is a clear page with
// a way to sign in again, no session, the visitor cookie kept, no profile touched.
func TestCallbackRefusals(t *testing.T) {
	e := newEnv(t)
	_, email, password := e.regular()
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	type setup func(t *testing.T, b *browser, callback string) string // returns the URL to request
	replaceQuery := func(callback, name, value string) string {
		u, _ := url.Parse(callback)
		q := u.Query()
		q.Set(name, value)
		u.RawQuery = q.Encode()
		return u.String()
	}
	forge := func(change func(c jwt.MapClaims, h map[string]any) string) setup {
		return func(t *testing.T, _ *browser, callback string) string {
			e.proxy.setForge(change)
			t.Cleanup(func() { e.proxy.setForge(nil) })
			return callback
		}
	}
	cases := []struct {
		name   string
		setup  setup
		status int
		logged string // why, as the log says
	}{
		{"access denied", func(_ *testing.T, _ *browser, cb string) string {
			u, _ := url.Parse(cb)
			return origin + "/callback?error=access_denied&error_reason=consent_canceled&state=" + url.QueryEscape(u.Query().Get("state"))
		}, http.StatusForbidden, "access_denied"},
		{"wrong state", func(_ *testing.T, _ *browser, cb string) string { return replaceQuery(cb, "state", "not-the-flows") }, http.StatusBadRequest, "state is not the flow's"},
		{"no flow cookie", func(_ *testing.T, b *browser, cb string) string { delete(b.site, "signin_flow"); return cb }, http.StatusBadRequest, "holds no sign-in flow"},
		{"replayed code", func(t *testing.T, b *browser, cb string) string {
			flow := *b.cookie("signin_flow")
			wantSignedIn(t, b.get(t, cb))
			delete(b.site, site.DefaultSessionCookie)
			b.site["signin_flow"] = &flow
			return cb
		}, http.StatusBadRequest, "invalid_grant"},
		{"code of another sign-in", func(t *testing.T, b *browser, cb string) string {
			other := e.newBrowser(t).logInAtFusionAuth(t, email, password)
			u, _ := url.Parse(other)
			return replaceQuery(cb, "code", u.Query().Get("code")) // PKCE: another verifier
		}, http.StatusBadRequest, "invalid_grant"},
		{"ID token for another audience", forge(func(c jwt.MapClaims, _ map[string]any) string {
			c["aud"] = "3c219e58-ed0e-4b18-ad48-f4f92793ae32" // FusionAuth's admin application
			return e.vendIDToken(t, c)
		}), http.StatusBadRequest, "expected audience"},
		{"ID token with another nonce", forge(func(c jwt.MapClaims, _ map[string]any) string {
			c["nonce"] = "a-nonce-of-another-flow"
			return e.vendIDToken(t, c)
		}), http.StatusBadRequest, "nonce is not the flow's"},
		{"ID token from another issuer", forge(func(c jwt.MapClaims, _ map[string]any) string {
			c["iss"] = "acme.com"
			return e.vendIDToken(t, c)
		}), http.StatusBadRequest, "issued by a different provider"},
		{"ID token signed with another key", forge(func(c jwt.MapClaims, h map[string]any) string {
			tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
			tok.Header["kid"] = h["kid"]
			s, _ := tok.SignedString(otherKey)
			return s
		}), http.StatusBadRequest, "failed to verify signature"},
		{"ID token signed with HS256 and the client secret", forge(func(c jwt.MapClaims, h map[string]any) string {
			tok := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
			tok.Header["kid"] = h["kid"]
			s, _ := tok.SignedString([]byte(e.fa.Variable("clientSecret")))
			return s
		}), http.StatusBadRequest, "unexpected signature algorithm"},
		{"expired ID token", forge(func(c jwt.MapClaims, _ map[string]any) string {
			// Vend signs exp = now + 1 h: at FusionAuth's clock two hours ago, an hour ago.
			e.clock.Advance(-2 * time.Hour)
			defer e.clock.Advance(2 * time.Hour)
			return e.vendIDToken(t, c)
		}), http.StatusBadRequest, "token is expired"},
		{"token endpoint failing", func(t *testing.T, _ *browser, cb string) string {
			e.fa.InjectFault("POST /oauth2/token", http.StatusInternalServerError, 1)
			return cb
		}, http.StatusServiceUnavailable, "token endpoint answered 500"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, stubID := e.watcher(t, 1)
			target := tc.setup(t, b, b.logInAtFusionAuth(t, email, password))
			stub, _ := e.admin.RetrieveUser(context.Background(), stubID) // gone after the replayed case's first use
			account := e.user(t, e.fa.Variable("regularUserId"))
			logged := e.logText()
			resp := b.get(t, target)
			page := body(t, resp)
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if now := e.logText(); !strings.Contains(now[len(logged):], tc.logged) {
				t.Errorf("log does not say %q:\n%s", tc.logged, now[len(logged):])
			}
			// The visitor's doing is a warning; our outage is an error, which alarms.
			level := `"level":"WARN","msg":"sign-in refused"`
			if tc.status >= http.StatusInternalServerError {
				level = `"level":"ERROR","msg":"sign-in failed"`
			}
			if now := e.logText(); !strings.Contains(now[len(logged):], level) {
				t.Errorf("log does not say %s:\n%s", level, now[len(logged):])
			}
			if !strings.Contains(page, `id="try-again" href="/login"`) {
				t.Errorf("page does not offer to sign in again:\n%s", page)
			}
			if c := cookieNamed(resp, site.DefaultSessionCookie); c != nil {
				t.Errorf("session cookie set: %v", c)
			}
			if c := cookieNamed(resp, cookieName); c != nil {
				t.Errorf("visitor cookie touched: %v", c)
			}
			if after, _ := e.admin.RetrieveUser(context.Background(), stubID); fmt.Sprint(after) != fmt.Sprint(stub) {
				t.Errorf("stub changed: %+v, was %+v", after, stub)
			}
			if u := e.user(t, account.ID); fmt.Sprint(u.Data) != fmt.Sprint(account.Data) {
				t.Errorf("account changed: %v, was %v", u.Data, account.Data)
			}
		})
	}
}

// TestUnsolicitedCodeStartsASignIn: FusionAuth sends a code without state when a login
// starts on its own pages (the "Log in" link after a password is set). It is never
// exchanged; /callback starts a sign-in, which the SSO session completes at once.
func TestUnsolicitedCodeStartsASignIn(t *testing.T) {
	e := newEnv(t)
	_, email, password := e.regular()
	b := e.newBrowser(t)
	q := url.Values{"client_id": {e.fa.Variable("applicationId")}, "redirect_uri": {origin + "/callback"}, "response_type": {"code"}}
	resp := b.fusionAuth(t, http.MethodPost, e.fa.URL()+"/oauth2/authorize?"+q.Encode(), url.Values{"loginId": {email}, "password": {password}})
	_ = resp.Body.Close()
	e.fa.ResetCalls()
	back := b.get(t, resp.Header.Get("Location"))
	if back.StatusCode != http.StatusFound || back.Header.Get("Location") != "/login" || e.fa.Calls("POST /oauth2/token") != 0 {
		t.Fatalf("unsolicited code: status %d Location %q, token calls %d; want 302 to /login and no exchange", back.StatusCode, back.Header.Get("Location"), e.fa.Calls("POST /oauth2/token"))
	}
	wantSignedIn(t, b.get(t, b.logInAtFusionAuth(t, email, "")))
}

// TestLogoutEndsBothSessions: /logout clears the session and sends the browser to
// FusionAuth's logout, which ends the SSO session; /video then counts nothing on the
// account, and signing in again asks for the password.
func TestLogoutEndsBothSessions(t *testing.T) {
	e := newEnv(t)
	id, email, password := e.regular()
	e.setWatchCount(t, id, 5)
	b := e.newBrowser(t)
	wantSignedIn(t, b.signIn(t, email, password))
	b.watch(t)
	resp := b.get(t, site.LogoutPath)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc.Path != "/oauth2/logout" || loc.Query().Get("client_id") != e.fa.Variable("applicationId") {
		t.Fatalf("logout: status %d Location %q, want 302 to FusionAuth's /oauth2/logout", resp.StatusCode, loc)
	}
	if c := cookieNamed(resp, site.DefaultSessionCookie); c == nil || c.MaxAge >= 0 {
		t.Errorf("session cookie after logout: %v, want cleared", c)
	}
	// The signed-out mark is for the landing only: five minutes at most, so a visit
	// long after the logout starts an anonymous profile as usual.
	if c := cookieNamed(resp, "signed_out"); c == nil || c.Path != "/video" || c.MaxAge <= 0 || c.MaxAge > 300 {
		t.Errorf("signed-out mark %+v, want Path=/video for at most five minutes", c)
	}
	if !strings.Contains(e.logText(), `"msg":"signed out","userId":"`+id+`"`) {
		t.Errorf("log does not say who signed out:\n%s", e.logText())
	}
	out := b.fusionAuth(t, http.MethodGet, loc.String(), nil)
	page := body(t, out)
	if !strings.Contains(page, `url=`+origin+"/video") {
		t.Errorf("FusionAuth's logout page does not go back to /video:\n%s", page)
	}
	before, users := e.user(t, id).Data["watchCount"], e.fa.UserCount()
	if p := b.watch(t); strings.Contains(p, email) || !strings.Contains(p, `id="nav-login"`) || !strings.Contains(p, `id="signed-out"`) || countIn(p) != -1 {
		t.Errorf("/video after logout: want no account, no count, Log in and the logged-out note:\n%s", p)
	}
	if got := e.fa.UserCount(); got != users {
		t.Errorf("users after the logout landing: %d, want %d (no new profile on it)", got, users)
	}
	if got := countIn(b.watch(t)); got != 1 {
		t.Errorf("the visit after the landing: count %d, want 1 (a new anonymous profile)", got)
	}
	if got := e.user(t, id).Data["watchCount"]; got != before {
		t.Errorf("account count after logout and a visit: %v, want %v", got, before)
	}
	// FusionAuth's SSO session is over: the login form again, not a code.
	started := b.startSignIn(t, site.LoginPath)
	if r := b.fusionAuth(t, http.MethodGet, started.location.String(), nil); r.StatusCode != http.StatusOK {
		t.Errorf("FusionAuth after logout: status %d, want the login form (200)", r.StatusCode)
	}
}

// TestSessionCookieForgeries: a visitor token in the session cookie, or a session
// signed with another key, is refused without reading any account and cleared.
func TestSessionCookieForgeries(t *testing.T) {
	e := newEnv(t)
	id, _, _ := e.regular()
	visitorToken, err := e.video.Tokens.Sign(id)
	if err != nil {
		t.Fatal(err)
	}
	b := e.newBrowser(t)
	b.site[site.DefaultSessionCookie] = &http.Cookie{Name: site.DefaultSessionCookie, Value: visitorToken, Path: "/"}
	e.client.Counter().Reset()
	resp := b.get(t, "/video")
	if c := cookieNamed(resp, site.DefaultSessionCookie); c == nil || c.MaxAge >= 0 {
		t.Errorf("forged session: cookie %v, want cleared", c)
	}
	if got := e.client.Counter().Count("GET /api/user/{userId}") + e.client.Counter().Count("PATCH /api/user/{userId}"); got != 0 {
		t.Errorf("forged session read or wrote the account: %v", e.client.Counter().Snapshot())
	}
	if strings.Contains(body(t, resp), e.fa.Variable("regularEmail")) {
		t.Error("forged session showed the account's address")
	}
}

// TestSignedInPeopleHaveAnAccount: /register sends a signed-in person to the video;
// /login does too.
func TestSignedInPeopleHaveAnAccount(t *testing.T) {
	e := newEnv(t)
	_, email, password := e.regular()
	b := e.newBrowser(t)
	wantSignedIn(t, b.signIn(t, email, password))
	for _, path := range []string{"/register", site.LoginPath} {
		resp := b.get(t, path)
		if resp.StatusCode/100 != 3 || resp.Header.Get("Location") != "/video" {
			t.Errorf("%s signed in: status %d Location %q, want a redirect to /video", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

// TestHeaderAlwaysOffersLogIn: an anonymous visitor's pages offer "Log in" and "Create
// account" in the header.
func TestHeaderAlwaysOffersLogIn(t *testing.T) {
	e := newEnv(t)
	b := e.newBrowser(t)
	for _, page := range []string{b.watch(t), body(t, b.get(t, "/register"))} {
		if !strings.Contains(page, `id="nav-login" href="/login"`) || !strings.Contains(page, `id="nav-create-account"`) || strings.Contains(page, "Log out") {
			t.Errorf("anonymous page header: want Log in and Create account, no Log out:\n%s", page)
		}
	}
}

// TestLogoutWithoutASessionSignsNobodyOut: /logout without a session still ends
// FusionAuth's SSO session, but the log names nobody as signed out.
func TestLogoutWithoutASessionSignsNobodyOut(t *testing.T) {
	e := newEnv(t)
	b := e.newBrowser(t)
	resp := b.get(t, site.LogoutPath)
	if loc, _ := url.Parse(resp.Header.Get("Location")); resp.StatusCode != http.StatusFound || loc.Path != "/oauth2/logout" {
		t.Fatalf("logout: status %d Location %q, want 302 to FusionAuth's /oauth2/logout", resp.StatusCode, resp.Header.Get("Location"))
	}
	if strings.Contains(e.logText(), `"msg":"signed out"`) {
		t.Errorf("a logout without a session logged a sign-out:\n%s", e.logText())
	}
}

// TestLogoutIsAGetAndHeadLogsIn: HEAD /login behaves as GET (it starts a sign-in); a
// POST to /logout is not a logout (TestMethodsNotAllowed has the other 405s): 405, and
// the session stays.
func TestLogoutIsAGetAndHeadLogsIn(t *testing.T) {
	e := newEnv(t)
	_, email, password := e.regular()
	b := e.newBrowser(t)
	wantSignedIn(t, b.signIn(t, email, password))
	session := b.cookie(site.DefaultSessionCookie)

	w := httptest.NewRecorder()
	e.register.ServeHTTP(w, httptest.NewRequest(http.MethodHead, origin+site.LoginPath, nil))
	if w.Code != http.StatusFound {
		t.Errorf("HEAD /login: status %d, want 302 as GET", w.Code)
	}
	r := httptest.NewRequest(http.MethodPost, origin+site.LogoutPath, strings.NewReader(""))
	r.AddCookie(&http.Cookie{Name: session.Name, Value: session.Value})
	w = httptest.NewRecorder()
	e.register.ServeHTTP(w, r)
	if resp := w.Result(); resp.StatusCode != http.StatusMethodNotAllowed || len(resp.Cookies()) != 0 {
		t.Errorf("POST /logout: status %d cookies %v, want 405 and the session left alone", resp.StatusCode, resp.Cookies())
	}
}

// settlerFunc is a Settler with its behaviour in a function field.
type settlerFunc func(ctx context.Context, accountID, stubID string) (anon.Settled, error)

func (f settlerFunc) SignedIn(ctx context.Context, accountID, stubID string) (anon.Settled, error) {
	return f(ctx, accountID, stubID)
}

// TestUnexpectedSignInFailureIsAnError: a failure nobody named (a bug of ours) is a
// 500 page with no session, logged as an error so that it alarms, like an outage.
func TestUnexpectedSignInFailureIsAnError(t *testing.T) {
	e := newEnv(t)
	_, email, password := e.regular()
	e.register.SignIn.Accounts = settlerFunc(func(context.Context, string, string) (anon.Settled, error) {
		return anon.NothingToSettle, errors.New("settling failed in a way nobody named")
	})
	b, _ := e.watcher(t, 1)
	resp := b.signIn(t, email, password)
	if resp.StatusCode != http.StatusInternalServerError || cookieNamed(resp, site.DefaultSessionCookie) != nil {
		t.Errorf("status %d, session %v; want 500 and no session", resp.StatusCode, cookieNamed(resp, site.DefaultSessionCookie))
	}
	if !strings.Contains(e.logText(), `"level":"ERROR","msg":"sign-in failed"`) {
		t.Errorf("log does not say the sign-in failed as an error:\n%s", e.logText())
	}
}
