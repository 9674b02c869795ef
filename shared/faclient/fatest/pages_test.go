package fatest_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/changebank/anonuser/shared/faclient/fatest"
)

// page fetches a hosted page without following redirects.
func page(tb testing.TB, method, target string, form url.Values) (int, http.Header, string) {
	tb.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		tb.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, target, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

func TestPasswordChangePage(t *testing.T) {
	s, _ := newServer(t, fatest.Options{})
	k := keysOf(s)
	createUser(t, s, k.admin, map[string]any{"email": "page@example.com", "password": "old-password-1"})
	wantStatus(t, do(t, s, http.MethodPost, "/api/user/forgot-password", k.register, map[string]any{"loginId": "page@example.com", "state": map[string]any{"anon_user": "true"}}), http.StatusOK)
	link := s.Outbox()[0].Link

	status, _, html := page(t, http.MethodGet, link, nil)
	if status != http.StatusOK || !strings.Contains(html, `name="password"`) {
		t.Fatalf("GET %s = %d, want a form with a password field:\n%s", link, status, html)
	}
	if !strings.Contains(html, "be between 8 and 256 characters long") || !strings.Contains(html, `aria-describedby="password-rules"`) {
		t.Errorf("set-password form does not show the tenant's password rules before submitting:\n%s", html)
	}
	status, _, html = page(t, http.MethodPost, link, url.Values{"password": {"short"}, "passwordConfirm": {"short"}})
	if status != http.StatusOK || !strings.Contains(html, "shorter than the minimum") {
		t.Errorf("short password: %d, want the form again with the rule:\n%s", status, html)
	}
	status, _, html = page(t, http.MethodPost, link, url.Values{"password": {"new-password-1"}, "passwordConfirm": {"other-password"}})
	if status != http.StatusOK || !strings.Contains(html, "do not match") {
		t.Errorf("mismatched confirmation: %d, want an error:\n%s", status, html)
	}
	status, _, html = page(t, http.MethodPost, link, url.Values{"password": {"new-password-1"}, "passwordConfirm": {"new-password-1"}})
	if status != http.StatusOK || !strings.Contains(html, "Your password has been set") {
		t.Fatalf("POST = %d, want the confirmation:\n%s", status, html)
	}
	wantLogin := "/oauth2/authorize?client_id=" + s.Variable("applicationId")
	if !strings.Contains(html, wantLogin) || !strings.Contains(html, "login_hint=page%40example.com") {
		t.Errorf("confirmation lacks a log-in link to %s with the login id filled in:\n%s", wantLogin, html)
	}
	wantStatus(t, do(t, s, http.MethodPost, "/api/login", k.admin, map[string]any{"loginId": "page@example.com", "password": "new-password-1"}), http.StatusOK)
	status, _, html = page(t, http.MethodGet, link, nil)
	if status != http.StatusNotFound || !strings.Contains(html, `action="/password/forgot?`) || !strings.Contains(html, "Send me a new link") {
		t.Fatalf("used link = %d, want 404 offering to send a new link:\n%s", status, html)
	}
	action := regexp.MustCompile(`action="([^"]+)"`).FindStringSubmatch(html)[1]
	sent := len(s.Outbox())
	status, _, html = page(t, http.MethodPost, s.URL()+strings.ReplaceAll(action, "&amp;", "&"), url.Values{"email": {"page@example.com"}})
	if status != http.StatusOK || len(s.Outbox()) != sent+1 || s.Outbox()[sent].To != "page@example.com" {
		t.Errorf("asking for a new link: %d, %d emails (was %d), want a new one to page@example.com:\n%s", status, len(s.Outbox()), sent, html)
	}
	status, _, html = page(t, http.MethodPost, s.URL()+strings.ReplaceAll(action, "&amp;", "&"), url.Values{"email": {"nobody@example.com"}})
	if status != http.StatusOK || len(s.Outbox()) != sent+1 || !strings.Contains(html, "If nobody@example.com has an account") {
		t.Errorf("a new link for an address without an account: %d, %d emails, want the same page and no email:\n%s", status, len(s.Outbox()), html)
	}
}

func TestAuthorizePage(t *testing.T) {
	s, _, rc := loginServer(t)
	app := s.Variable("applicationId")
	redirect := s.Variable("appURL") + "/callback"
	valid := url.Values{"client_id": {app}, "redirect_uri": {redirect}, "response_type": {"code"}, "state": {"xyz"}}
	tests := map[string]struct {
		query      url.Values
		wantStatus int
	}{
		"valid":                 {valid, http.StatusOK},
		"unknown client":        {url.Values{"client_id": {"6b1a3a80-0000-4000-8000-000000000000"}, "redirect_uri": {redirect}, "response_type": {"code"}}, http.StatusBadRequest},
		"unauthorized redirect": {url.Values{"client_id": {app}, "redirect_uri": {"http://evil.example/cb"}, "response_type": {"code"}}, http.StatusBadRequest},
		"no response_type":      {url.Values{"client_id": {app}, "redirect_uri": {redirect}}, http.StatusFound}, // an error sent to the verified redirect URI
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			status, _, _ := page(t, http.MethodGet, s.URL()+"/oauth2/authorize?"+tc.query.Encode(), nil)
			if status != tc.wantStatus {
				t.Errorf("status = %d, want %d", status, tc.wantStatus)
			}
		})
	}
	hinted := url.Values{"login_hint": {"richard@example.com"}}
	for k, v := range valid {
		hinted[k] = v
	}
	if _, _, html := page(t, http.MethodGet, s.URL()+"/oauth2/authorize?"+hinted.Encode(), nil); !strings.Contains(html, `value="richard@example.com"`) {
		t.Errorf("login_hint does not fill in the login id:\n%s", html)
	}
	target := s.URL() + "/oauth2/authorize?" + valid.Encode()
	status, _, html := page(t, http.MethodPost, target, url.Values{"loginId": {"richard@example.com"}, "password": {"wrong-password"}})
	if status != http.StatusOK || !strings.Contains(html, "Invalid login credentials") || rc.count() != 0 {
		t.Errorf("wrong password: %d, webhook calls %d, want the form with an error and no event:\n%s", status, rc.count(), html)
	}
	status, hdr, _ := page(t, http.MethodPost, target, url.Values{"loginId": {"richard@example.com"}, "password": {s.Variable("regularPassword")}})
	if status != http.StatusFound {
		t.Fatalf("login = %d, want a 302", status)
	}
	loc, err := url.Parse(hdr.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), redirect+"?") || loc.Query().Get("code") == "" || loc.Query().Get("state") != "xyz" {
		t.Errorf("Location = %q, want %s?code=…&state=xyz", hdr.Get("Location"), redirect)
	}
	if rc.count() != 1 {
		t.Errorf("webhook calls = %d, want the login event", rc.count())
	}
}

func TestRegisterPage(t *testing.T) {
	s, _ := newServer(t, fatest.Options{})
	q := url.Values{"client_id": {s.Variable("applicationId")}, "redirect_uri": {s.Variable("appURL") + "/callback"}, "response_type": {"code"}}
	target := s.URL() + "/oauth2/register?" + q.Encode()
	if status, _, html := page(t, http.MethodGet, target, nil); status != http.StatusOK || !strings.Contains(html, `name="email"`) {
		t.Fatalf("GET = %d, want a registration form:\n%s", status, html)
	}
	status, hdr, _ := page(t, http.MethodPost, target, url.Values{"email": {"self@example.com"}, "password": {"long-enough-pw"}})
	if status != http.StatusFound || !strings.Contains(hdr.Get("Location"), "code=") {
		t.Fatalf("POST = %d (Location %q), want a redirect with a code", status, hdr.Get("Location"))
	}
	r := do(t, s, http.MethodGet, "/api/user?email=self@example.com", keysOf(s).admin, nil)
	wantStatus(t, r, http.StatusOK)
	if regs, _ := path(r.body, "user.registrations").([]any); len(regs) != 1 {
		t.Errorf("registrations = %v, want one for the application", regs)
	}
	status, _, html := page(t, http.MethodPost, target, url.Values{"email": {"SELF@example.com"}, "password": {"long-enough-pw"}})
	if status != http.StatusOK || !strings.Contains(html, "already exists") {
		t.Errorf("duplicate email: %d, want the form with an error:\n%s", status, html)
	}
}
