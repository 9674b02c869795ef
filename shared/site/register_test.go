package site_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/faclient"
)

const checkEmail = "Please check your email to set your password."

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
	if resp.StatusCode != http.StatusOK || !strings.Contains(body(t, resp), checkEmail) {
		t.Fatalf("POST /register: status %d, want 200 with %q", resp.StatusCode, checkEmail)
	}
	if got := e.regClient.Counter().Snapshot(); e.regClient.Counter().Total() != 3 ||
		got["GET /api/user/{userId}"] != 1 || got["PATCH /api/user/{userId}"] != 1 || got["POST /api/user/forgot-password"] != 1 {
		t.Errorf("FusionAuth calls=%v, want exactly read, patch, forgot-password", got)
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
	anonClient, _ := faclient.New(faclient.Options{BaseURL: e.fa.URL()})
	changed, err := anonClient.ChangePassword(ctx, mail.ChangePasswordID, faclient.ChangePasswordRequest{Password: "correct horse battery staple"})
	if err != nil {
		t.Fatalf("change password: %v", err)
	}
	if changed.State["anon_user"] != "true" {
		t.Errorf("change-password state=%v, want anon_user", changed.State)
	}
	login, err := e.admin.Login(ctx, faclient.LoginRequest{LoginID: "new.person@example.com", Password: "correct horse battery staple", ApplicationID: e.fa.Variable("applicationId")})
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

func TestTakenAndFreeEmailLookAlike(t *testing.T) {
	e := newEnv(t)
	taken := strings.ToUpper(e.fa.Variable("regularEmail")) // another account, other letter case
	cookieA, idA := e.newVisitor(t)
	cookieB, _ := e.newVisitor(t)
	respTaken := e.post(t, cookieA, taken, nil)
	respFree := e.post(t, cookieB, "free.address@example.com", nil)
	if respTaken.StatusCode != respFree.StatusCode {
		t.Errorf("taken email status %d, free email status %d: they must match", respTaken.StatusCode, respFree.StatusCode)
	}
	bTaken := strings.ReplaceAll(body(t, respTaken), strings.ToLower(taken), "X")
	bFree := strings.ReplaceAll(body(t, respFree), "free.address@example.com", "X")
	if bTaken != bFree {
		t.Errorf("pages differ between a taken and a free email:\n%s\n---\n%s", bTaken, bFree)
	}
	if u := e.user(t, idA); u.Email != "" {
		t.Errorf("taken email set on the stub: %q", u.Email)
	}
	for _, m := range e.fa.Outbox() {
		if strings.EqualFold(m.To, taken) {
			t.Errorf("an email went to the owner of the taken address")
		}
	}
}

func TestResubmitReplacesOrResends(t *testing.T) {
	e := newEnv(t)
	cookie, id := e.newVisitor(t)
	e.post(t, cookie, "first@example.com", nil)
	e.post(t, cookie, "second@example.com", nil)
	if u := e.user(t, id); u.Email != "second@example.com" {
		t.Errorf("email=%q, want the new address to replace the pending one", u.Email)
	}
	e.regClient.Counter().Reset()
	resp := e.post(t, cookie, "second@example.com", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status=%d", resp.StatusCode)
	}
	out := e.fa.Outbox()
	if len(out) != 3 || out[2].To != "second@example.com" {
		t.Fatalf("outbox=%d emails (last to %q), want the same address mailed again", len(out), out[len(out)-1].To)
	}
	if got := e.regClient.Counter().Count("PATCH /api/user/{userId}"); got != 0 {
		t.Errorf("same address patched again (%d PATCH)", got)
	}
	// The first address is free again: another visitor may use it.
	other, otherID := e.newVisitor(t)
	e.post(t, other, "first@example.com", nil)
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
	resp = e.post(t, cookie, "later@example.com", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body(t, resp), checkEmail) {
		t.Fatalf("resubmit: status %d, want 200", resp.StatusCode)
	}
	if out := e.fa.Outbox(); len(out) != 1 || out[0].To != "later@example.com" {
		t.Errorf("outbox=%v, want the email sent on resubmit", out)
	}
}

func TestRegisterRefusals(t *testing.T) {
	e := newEnv(t)
	cookie, id := e.newVisitor(t)
	long := strings.Repeat("a", 250) + "@example.com"
	cases := map[string]struct {
		cookie, email string
		header        map[string]string
		status        int
		text          string
	}{
		"cross-site Origin":         {cookie, "a@example.com", map[string]string{"Sec-Fetch-Site": "", "Origin": "https://evil.example"}, 403, "only be sent from ChangeBank"},
		"cross-site Sec-Fetch-Site": {cookie, "a@example.com", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, "only be sent from ChangeBank"},
		"same-site subdomain":       {cookie, "a@example.com", map[string]string{"Sec-Fetch-Site": "same-site"}, 403, "only be sent from ChangeBank"},
		"no Origin at all":          {cookie, "a@example.com", map[string]string{"Sec-Fetch-Site": "", "Origin": ""}, 403, "only be sent from ChangeBank"},
		"malformed email":           {cookie, "not-an-email", nil, 400, "valid email address"},
		"display name":              {cookie, "Bob <bob@example.com>", nil, 400, "valid email address"},
		"too long email":            {cookie, long, nil, 400, "valid email address"},
		"oversized form":            {cookie, strings.Repeat("x", 5000), nil, 413, "too large"},
		"no cookie redirects":       {"", "a@example.com", nil, 303, ""},
		"forged cookie redirects":   {"eyJhbGciOiJub25lIn0.eyJ1c2VySWQiOiJ4In0.", "a@example.com", nil, 303, ""},
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
			if n := e.regClient.Counter().Total(); n != 0 {
				t.Errorf("FusionAuth calls=%v, want none", e.regClient.Counter().Snapshot())
			}
		})
	}
	if u := e.user(t, id); u.Email != "" {
		t.Errorf("a refused request set email %q", u.Email)
	}
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

// TestFormStatesFusionAuthsLimit: the email field's maxlength is the domain's limit,
// rendered, not a number typed into the page.
func TestFormStatesFusionAuthsLimit(t *testing.T) {
	e := newEnv(t)
	cookie, _ := e.newVisitor(t)
	b := body(t, e.getRegister(t, cookie))
	if want := fmt.Sprintf(`maxlength="%d"`, anon.MaxEmailLen); !strings.Contains(b, want) {
		t.Errorf("register form does not carry %s:\n%s", want, b)
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
