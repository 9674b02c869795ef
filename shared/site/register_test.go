package site_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/faclient"
)

const checkEmail = `<p class="notice" id="notice">Please check your email.</p>`

// wantRedirectToRegister checks a successful POST's answer: 303 to GET /register
// (POST/Redirect/GET), so that a reload or the back button sends nothing again.
func wantRedirectToRegister(tb testing.TB, resp *http.Response) {
	tb.Helper()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/register" {
		tb.Fatalf("POST /register: status %d Location %q, want 303 to /register", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestWholeConversionKeepsTheProfile(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	cookie, userID := e.newVisitor(t)
	e.visit(t, http.MethodGet, cookie, nil)
	e.visit(t, http.MethodGet, cookie, nil) // watchCount 3

	if resp := e.getRegister(t, cookie); resp.StatusCode != http.StatusOK || !strings.Contains(body(t, resp), `name="email"`) {
		t.Fatalf("GET /register: status %d, want the form", resp.StatusCode)
	}
	e.regClient.Counter().Reset()
	resp := e.post(t, cookie, "New.Person@Example.com", nil)
	wantRedirectToRegister(t, resp)
	if visitorCookie(resp) != nil {
		t.Error("the first address re-set the cookie: it is set on the same stub")
	}
	if got := e.regClient.Counter().Snapshot(); e.regClient.Counter().Total() != 3 ||
		got["GET /api/user/{userId}"] != 1 || got["PATCH /api/user/{userId}"] != 1 || got["POST /api/user/forgot-password"] != 1 {
		t.Errorf("FusionAuth calls=%v, want exactly read, patch (address and send record), forgot-password", got)
	}
	if b := body(t, e.getRegister(t, cookie)); !strings.Contains(b, checkEmail) || !strings.Contains(b, "new.person@example.com") || !strings.Contains(b, "<strong>3</strong> times") {
		t.Errorf("the page after the redirect does not say check your email for the address with the count 3:\n%s", b)
	}
	u := e.user(t, userID)
	if u.Email != "new.person@example.com" || u.Data["emailPendingSince"] == nil || u.Data["anonymousUser"] != true {
		t.Errorf("user after register: email %q data %v", u.Email, u.Data)
	}
	out := e.fa.Outbox()
	if len(out) != 1 {
		t.Fatalf("outbox has %d emails, want 1", len(out))
	}
	mail := out[0]
	if mail.To != "new.person@example.com" || mail.State["anon_user"] != "true" || mail.ChangePasswordID == "" ||
		!strings.Contains(mail.Link, mail.ChangePasswordID) || !strings.Contains(mail.Link, "anon_user=true") {
		t.Fatalf("email=%+v, want it to new.person@example.com with state anon_user and a link carrying the id", mail)
	}
	if !strings.Contains(mail.Text, "Set a password") {
		t.Errorf("email text is not the anonymous variant:\n%s", mail.Text)
	}
	// The visitor follows the link and sets a password, then logs in.
	password := e.setPasswordFromEmail(t, "new.person@example.com")
	login, err := e.admin.Login(ctx, faclient.LoginRequest{LoginID: "new.person@example.com", Password: password, ApplicationID: e.fa.Variable("applicationId")})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	if login.User.ID != userID {
		t.Errorf("logged in as %s, want %s", login.User.ID, userID)
	}
	// FusionAuth delivered user.login.success to the webhook, which converted the user.
	u = e.user(t, userID)
	if u.Data["anonymousUser"] != false || u.Data["convertedAt"] == nil || u.Username != "" || u.Data["emailPendingSince"] != nil {
		t.Errorf("after login: username %q data %v, want converted", u.Username, u.Data)
	}
	if u.Data["watchCount"] != float64(3) {
		t.Errorf("watchCount=%v after conversion, want 3", u.Data["watchCount"])
	}
	// The old anonymous cookie no longer reaches the account: whoever made the stub is
	// not necessarily who proved the address. No count, no address shown, the cookie
	// cleared, sign-in offered; the account's count is untouched.
	resp = e.visit(t, http.MethodGet, cookie, nil)
	b := body(t, resp)
	if strings.Contains(b, `id="watch-count"`) || strings.Contains(b, "new.person@example.com") || !strings.Contains(b, `href="/login"`) {
		t.Errorf("video with the old cookie after conversion: want no count, no address and a log-in link:\n%s", b)
	}
	if c := visitorCookie(resp); c == nil || c.MaxAge >= 0 {
		t.Errorf("video with the old cookie after conversion: cookie %v, want it cleared", c)
	}
	if got := e.user(t, userID).Data["watchCount"]; got != float64(3) {
		t.Errorf("watchCount=%v after a visit with the old cookie, want still 3", got)
	}
	// Account takeover: the old anonymous cookie cannot move the email elsewhere; the
	// visitor is offered sign-in instead.
	resp = e.post(t, cookie, "attacker@example.com", nil)
	b = body(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(b, `href="/login"`) || strings.Contains(b, `id="email"`) {
		t.Errorf("register after conversion: status %d, want 200 offering sign-in and no form:\n%s", resp.StatusCode, b)
	}
	if c := visitorCookie(resp); c == nil || c.MaxAge >= 0 {
		t.Errorf("register after conversion: cookie %v, want it cleared", c)
	}
	if u := e.user(t, userID); u.Email != "new.person@example.com" {
		t.Errorf("email changed to %q after conversion", u.Email)
	}
}

// TestChangeOfAddressMovesTheProfile: a second address moves the profile to a fresh
// stub (anon.MovedID) holding the same data with new random credentials, deletes the
// old stub, and re-issues the cookie for the new one in the same answer; the same
// address again only resends. The first address is free for others at once.
func TestChangeOfAddressMovesTheProfile(t *testing.T) {
	e := newEnv(t)
	cookie, id := e.newVisitor(t)
	e.visit(t, http.MethodGet, cookie, nil) // watchCount 2
	wantRedirectToRegister(t, e.post(t, cookie, "first@example.com", nil))
	before := e.user(t, id)
	e.regClient.Counter().Reset()
	resp := e.post(t, cookie, "second@example.com", nil)
	wantRedirectToRegister(t, resp)
	if got := e.regClient.Counter().Snapshot(); e.regClient.Counter().Total() != 6 || got["POST /api/user/{userId}"] != 1 || got["DELETE /api/user/{userId}"] != 1 {
		t.Errorf("FusionAuth calls=%v, want 6: read, record, create, give it the address, delete, forgot-password", got)
	}
	c := visitorCookie(resp)
	if c == nil {
		t.Fatal("the move did not re-issue the cookie")
	}
	movedID := mustVerify(t, e, c.Value)
	if movedID != anon.MovedID(id, "second@example.com") {
		t.Errorf("cookie names %s, want the moved stub %s", movedID, anon.MovedID(id, "second@example.com"))
	}
	if _, ok := e.fa.User(id); ok {
		t.Error("the old stub still exists: its links would live on")
	}
	moved := e.user(t, movedID)
	if moved.Email != "second@example.com" || moved.Username == before.Username || moved.Data["anonymousUser"] != true ||
		moved.Data["watchCount"] != float64(2) || moved.Data["emailPendingSince"] != before.Data["emailPendingSince"] {
		t.Errorf("moved stub: email %q data %v, want second@example.com, a new username, the same data and emailPendingSince %v", moved.Email, moved.Data, before.Data["emailPendingSince"])
	}
	if b := body(t, e.getRegister(t, c.Value)); !strings.Contains(b, "second@example.com") || !strings.Contains(b, "<strong>2</strong> times") {
		t.Errorf("page after the move does not show the new address and the count:\n%s", b)
	}
	// The same address again, a little later: a resend on the same stub, no move.
	e.clock.Advance(20 * time.Second)
	e.regClient.Counter().Reset()
	resp = e.post(t, c.Value, "second@example.com", nil)
	wantRedirectToRegister(t, resp)
	if visitorCookie(resp) != nil || e.regClient.Counter().Total() != 3 || e.regClient.Counter().Count("POST /api/user/forgot-password") != 1 {
		t.Errorf("resend: calls %v, cookie re-set %v; want read, record, forgot-password and the same cookie", e.regClient.Counter().Snapshot(), visitorCookie(resp) != nil)
	}
	if out := e.fa.Outbox(); len(out) != 3 || out[2].To != "second@example.com" {
		t.Fatalf("outbox=%d emails, want three, the last to second@example.com", len(out))
	}
	// The first address is free again: another visitor may use it.
	other, otherID := e.newVisitor(t)
	wantRedirectToRegister(t, e.post(t, other, "first@example.com", nil))
	if u := e.user(t, otherID); u.Email != "first@example.com" {
		t.Errorf("released address not usable: %q", u.Email)
	}
}

func TestEmailFailureLosesNothing(t *testing.T) {
	e := newEnv(t)
	cookie, id := e.newVisitor(t)
	e.fa.InjectFault("POST /api/user/forgot-password", http.StatusServiceUnavailable, 1)
	resp := e.post(t, cookie, "later@example.com", nil)
	b := body(t, resp)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(b, "could not send the email") {
		t.Fatalf("status %d, want 503 saying the email was not sent", resp.StatusCode)
	}
	if u := e.user(t, id); u.Email != "later@example.com" {
		t.Fatalf("email not kept after the failed send: %q", u.Email)
	}
	if len(e.fa.Outbox()) != 0 {
		t.Fatal("an email was sent despite the fault")
	}
	wantRedirectToRegister(t, e.post(t, cookie, "later@example.com", nil))
	if out := e.fa.Outbox(); len(out) != 1 || out[0].To != "later@example.com" {
		t.Errorf("outbox=%v, want the email sent on resubmit", out)
	}
}

func TestRegisterRefusals(t *testing.T) {
	e := newEnv(t)
	cookie, id := e.newVisitor(t)
	long := strings.Repeat("a", 60) + "@" + strings.Repeat("b", 150) + ".com"
	cases := map[string]struct {
		cookie, email string
		header        map[string]string
		status        int
		text          string
		reads         int // FusionAuth reads for the page's count; never a write
	}{
		"cross-site Origin":         {cookie, "a@example.com", map[string]string{"Sec-Fetch-Site": "", "Origin": "https://evil.example"}, 403, "only be sent from ChangeBank", 0},
		"cross-site Sec-Fetch-Site": {cookie, "a@example.com", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, "only be sent from ChangeBank", 0},
		"same-site subdomain":       {cookie, "a@example.com", map[string]string{"Sec-Fetch-Site": "same-site"}, 403, "only be sent from ChangeBank", 0},
		"no Origin at all":          {cookie, "a@example.com", map[string]string{"Sec-Fetch-Site": "", "Origin": ""}, 403, "only be sent from ChangeBank", 0},
		"malformed email":           {cookie, "not-an-email", nil, 400, "valid email address", 1},
		"display name":              {cookie, "Bob <bob@example.com>", nil, 400, "valid email address", 1},
		"too long email":            {cookie, long, nil, 400, "too long", 1},
		"oversized form":            {cookie, strings.Repeat("x", 5000), nil, 413, "too large", 1},
		"no cookie redirects":       {"", "a@example.com", nil, 303, "", 0},
		"forged cookie redirects":   {"eyJhbGciOiJub25lIn0.eyJ1c2VySWQiOiJ4In0.", "a@example.com", nil, 303, "", 0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e.regClient.Counter().Reset()
			resp := e.post(t, tc.cookie, tc.email, tc.header)
			if resp.StatusCode != tc.status {
				t.Fatalf("status=%d, want %d", resp.StatusCode, tc.status)
			}
			if b := body(t, resp); tc.text != "" && !strings.Contains(b, tc.text) {
				t.Errorf("page does not say %q", tc.text)
			}
			if n, reads := e.regClient.Counter().Total(), e.regClient.Counter().Count("GET /api/user/{userId}"); n != tc.reads || reads != tc.reads {
				t.Errorf("FusionAuth calls=%v, want %d read(s) and no write", e.regClient.Counter().Snapshot(), tc.reads)
			}
		})
	}
	if u := e.user(t, id); u.Email != "" || u.Data["emailPendingSince"] != nil {
		t.Errorf("a refused request changed the profile: email %q data %v", u.Email, u.Data)
	}
	if n := len(e.fa.Outbox()); n != 0 {
		t.Errorf("%d emails sent for refused requests", n)
	}
}

// TestOriginCheckWithoutFetchMetadata: a browser that sends no Sec-Fetch-Site is judged
// by Origin against the site's own origin: APP_ORIGIN when configured, else the
// request's scheme (TLS, or X-Forwarded-Proto from the API gateway) and host.
func TestOriginCheckWithoutFetchMetadata(t *testing.T) {
	e := newEnv(t)
	cookie, _ := e.newVisitor(t)
	post := func(target, origin string, header map[string]string) int {
		r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(url.Values{"email": {"origin.check@example.com"}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Origin", origin)
		override(r.Header, header)
		r.AddCookie(&http.Cookie{Name: cookieName, Value: cookie})
		w := httptest.NewRecorder()
		e.register.ServeHTTP(w, r)
		return w.Code
	}
	for name, tc := range map[string]struct {
		configured, target, origin string
		header                     map[string]string
		accepted                   bool
	}{
		"same origin over TLS":               {"", "https://changebank.example/register", "https://changebank.example", nil, true},
		"origin null":                        {"", "https://changebank.example/register", "null", nil, false},
		"http origin to a TLS request":       {"", "https://changebank.example/register", "http://changebank.example", nil, false},
		"plain http, same origin":            {"", "http://changebank.example/register", "http://changebank.example", nil, true},
		"plain http, an https origin":        {"", "http://changebank.example/register", "https://changebank.example", nil, false},
		"behind the gateway (forwarded TLS)": {"", "http://changebank.example/register", "https://changebank.example", map[string]string{"X-Forwarded-Proto": "https"}, true},
		"configured origin":                  {"https://www.changebank.example", "http://internal.example/register", "https://www.changebank.example", nil, true},
		"the request's own, not configured":  {"https://www.changebank.example", "https://changebank.example/register", "https://changebank.example", nil, false},
	} {
		t.Run(name, func(t *testing.T) {
			e.register.Register.Origin = tc.configured
			e.clock.Advance(20 * time.Second) // each accepted post is a new request, not a second click
			got := post(tc.target, tc.origin, tc.header)
			if (got == http.StatusSeeOther) != tc.accepted || (!tc.accepted && got != http.StatusForbidden) {
				t.Errorf("status %d, want accepted=%v (303), else 403", got, tc.accepted)
			}
		})
	}
	e.register.Register.Origin = ""
}

// TestUnknownVisitorGoesToFusionAuthRegistration: a visitor without a profile is sent
// to sign-in on FusionAuth's registration page, through /login, so that the code comes
// back to /callback with this app's state and PKCE.
func TestUnknownVisitorGoesToFusionAuthRegistration(t *testing.T) {
	e := newEnv(t)
	resp := e.getRegister(t, "")
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/login?screen=register" {
		t.Fatalf("status=%d Location=%q, want 302 to /login?screen=register", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	loc := e.startSignIn(t, "/login?screen=register").location
	q := loc.Query()
	if loc.Path != "/oauth2/register" || !strings.HasPrefix(loc.String(), e.fa.URL()) || q.Get("client_id") != e.fa.Variable("applicationId") ||
		q.Get("response_type") != "code" || q.Get("redirect_uri") != origin+"/callback" || q.Get("code_challenge_method") != "S256" {
		t.Errorf("Location=%s, want FusionAuth's /oauth2/register for the application, back to /callback, with PKCE", loc)
	}
}

// TestHostedPagesShareTheirParameters: the login offered to a converted visitor and the
// registration for an unknown one are the same OAuth request to two FusionAuth pages,
// each with its own state, nonce and PKCE challenge.
func TestHostedPagesShareTheirParameters(t *testing.T) {
	e := newEnv(t)
	cookie, id := e.newVisitor(t)
	if _, err := e.admin.PatchUser(context.Background(), id, map[string]any{"user": map[string]any{"data": map[string]any{"anonymousUser": false}}}); err != nil {
		t.Fatal(err)
	}
	b := body(t, e.getRegister(t, cookie))
	m := regexp.MustCompile(`id="login" href="([^"]+)"`).FindStringSubmatch(b)
	if m == nil || html.UnescapeString(m[1]) != "/login" {
		t.Fatalf("converted visitor's page: login link %v, want /login:\n%s", m, b)
	}
	login, register := e.startSignIn(t, "/login").location, e.startSignIn(t, "/login?screen=register").location
	if login.Path != "/oauth2/authorize" || register.Path != "/oauth2/register" {
		t.Errorf("paths %s and %s, want /oauth2/authorize and /oauth2/register", login.Path, register.Path)
	}
	lq, rq := login.Query(), register.Query()
	for _, same := range []string{"client_id", "redirect_uri", "response_type", "scope", "code_challenge_method"} {
		if lq.Get(same) == "" || lq.Get(same) != rq.Get(same) {
			t.Errorf("%s: login %q, registration %q; want the same, set", same, lq.Get(same), rq.Get(same))
		}
	}
	for _, fresh := range []string{"state", "nonce", "code_challenge"} {
		if lq.Get(fresh) == "" || lq.Get(fresh) == rq.Get(fresh) {
			t.Errorf("%s: login %q, registration %q; want each its own", fresh, lq.Get(fresh), rq.Get(fresh))
		}
	}
}
