package site_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/site"
)

// me sends a request of the visitor's own pages with the visitor cookie (and the
// session when given), as a same-origin browser would.
func (e *env) me(method, path, cookie, session string, form url.Values, header map[string]string) *httptest.ResponseRecorder {
	var r *http.Request
	if form != nil {
		r = httptest.NewRequest(method, origin+path, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		r = httptest.NewRequest(method, origin+path, nil)
	}
	r.RemoteAddr = e.nextAddr()
	r.Header.Set("Origin", origin)
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	override(r.Header, header)
	if cookie != "" {
		r.AddCookie(&http.Cookie{Name: cookieName, Value: cookie})
	}
	if session != "" {
		r.AddCookie(&http.Cookie{Name: site.DefaultSessionCookie, Value: session})
	}
	w := httptest.NewRecorder()
	e.register.ServeHTTP(w, r)
	return w
}

// TestMeShowsAndExportsWithoutSecrets: the page says what is recorded in plain words,
// and the download is FusionAuth's user without a password or the stub's username,
// with the cookie's claims, and nothing of the keys.
func TestMeShowsAndExportsWithoutSecrets(t *testing.T) {
	e := newEnv(t)
	cookie, id := e.newVisitor(t)
	e.visit(t, http.MethodGet, cookie, nil)
	page := e.me(http.MethodGet, site.MePath, cookie, "", nil, nil)
	if page.Code != http.StatusOK || !strings.Contains(page.Body.String(), "How many times you opened the video page</th><td>2") ||
		!strings.Contains(page.Body.String(), "Your first visit") || !strings.Contains(page.Body.String(), id) {
		t.Fatalf("/me: %d\n%s", page.Code, page.Body.String())
	}
	w := e.me(http.MethodGet, site.MeDataPath, cookie, "", nil, nil)
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") ||
		!strings.Contains(w.Header().Get("Content-Disposition"), "attachment") {
		t.Fatalf("download: %d %v", w.Code, w.Header())
	}
	var got struct {
		User   map[string]any
		Cookie map[string]any
	}
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	stored := e.user(t, id)
	if got.User["id"] != id || got.User["data"].(map[string]any)["watchCount"] != 2.0 || got.Cookie["userId"] != id || got.Cookie["purpose"] != "anonymous-visitor" {
		t.Errorf("export %v", got)
	}
	body := w.Body.String()
	for _, secret := range []string{stored.Username, `"password"`, `"username"`, e.fa.Variable("videoApiKey"), e.fa.Variable("registerApiKey"), string(e.keys[0].Secret)} {
		if secret != "" && strings.Contains(body, secret) {
			t.Errorf("export contains %q", secret)
		}
	}
	if w := e.me(http.MethodGet, site.MeDataPath, "", "", nil, nil); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `id="nothing"`) {
		t.Errorf("download without a profile: %d, want the page saying nothing is recorded", w.Code)
	}
}

// TestForgetDeletesTheStubAndAReplayIsANoOp: a confirmed, same-origin forget deletes
// the user in FusionAuth, clears the cookie and says so; sent again it deletes nothing
// and answers the same; cross-site or unconfirmed it changes nothing.
func TestForgetDeletesTheStubAndAReplayIsANoOp(t *testing.T) {
	e := newEnv(t)
	cookie, id := e.newVisitor(t)
	confirm := url.Values{"confirm": {"yes"}}
	if w := e.me(http.MethodPost, site.MeForgetPath, cookie, "", confirm, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}); w.Code != http.StatusForbidden {
		t.Errorf("cross-site forget: %d, want 403", w.Code)
	}
	if w := e.me(http.MethodPost, site.MeForgetPath, cookie, "", url.Values{}, nil); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "tick the box") {
		t.Errorf("unconfirmed forget: %d, want 400 asking to confirm", w.Code)
	}
	if u := e.user(t, id); u.ID != id {
		t.Fatal("the stub is gone before a confirmed forget")
	}
	e.regClient.Counter().Reset()
	w := e.me(http.MethodPost, site.MeForgetPath, cookie, "", confirm, nil)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `id="forgotten"`) {
		t.Fatalf("forget: %d\n%s", w.Code, w.Body.String())
	}
	if c := visitorCookie(w.Result()); c == nil || c.MaxAge >= 0 {
		t.Errorf("forget: cookie %v, want it cleared", c)
	}
	if _, err := e.admin.RetrieveUser(t.Context(), id); !faclient.IsNotFound(err) {
		t.Errorf("the stub after forget: %v, want deleted", err)
	}
	if n := e.regClient.Counter().Total(); n != 2 {
		t.Errorf("FusionAuth calls for a forget: %v, want 2 (read, delete)", e.regClient.Counter().Snapshot())
	}
	log := e.logText()
	if !strings.Contains(log, `"Forgotten":1`) || strings.Contains(log[strings.Index(log, `"visitor data forgotten"`):], id) {
		t.Errorf("the forget's log line: want the Forgotten metric and no user id")
	}
	e.regClient.Counter().Reset()
	replay := e.me(http.MethodPost, site.MeForgetPath, cookie, "", confirm, nil)
	if replay.Code != http.StatusOK || !strings.Contains(replay.Body.String(), `id="forgotten"`) || strings.Count(e.logText(), `"Forgotten":1`) != 1 {
		t.Errorf("replayed forget: %d, want the same page and no second metric", replay.Code)
	}
	if n := e.regClient.Counter().Count("DELETE /api/user/{userId}"); n != 0 {
		t.Errorf("replayed forget deleted %d times, want 0", n)
	}
}

// TestForgetByCookieNeverDeletesAnAccount: a cookie whose stub became an account
// cannot delete it (409); the account, signed in, can delete itself.
func TestForgetByCookieNeverDeletesAnAccount(t *testing.T) {
	e := newEnv(t)
	id, email, password := e.regular()
	b := e.newBrowser(t)
	cookie, stub := e.newVisitor(t)
	if _, err := e.admin.PatchUser(t.Context(), stub, map[string]any{"user": map[string]any{"data": map[string]any{"anonymousUser": false}}}); err != nil {
		t.Fatal(err)
	}
	if w := e.me(http.MethodPost, site.MeForgetPath, cookie, "", url.Values{"confirm": {"yes"}}, nil); w.Code != http.StatusConflict {
		t.Errorf("forget of an account by its old cookie: %d, want 409", w.Code)
	}
	if u := e.user(t, stub); u.ID != stub {
		t.Fatal("the account was deleted through a visitor cookie")
	}
	wantSignedIn(t, b.signIn(t, email, password))
	session := b.cookie(site.DefaultSessionCookie).Value
	if w := e.me(http.MethodGet, site.MePath, "", session, nil, nil); !strings.Contains(w.Body.String(), "on your account "+email) {
		t.Errorf("/me signed in: want the account's data\n%s", w.Body.String())
	}
	w := e.me(http.MethodPost, site.MeForgetPath, "", session, url.Values{"confirm": {"yes"}}, nil)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "you are signed out") {
		t.Fatalf("account forget: %d", w.Code)
	}
	if c := cookieNamed(w.Result(), site.DefaultSessionCookie); c == nil || c.MaxAge >= 0 {
		t.Errorf("session after the account's forget: %v, want cleared", c)
	}
	if _, err := e.admin.RetrieveUser(t.Context(), id); !faclient.IsNotFound(err) {
		t.Errorf("the account after forget: %v, want deleted", err)
	}
}
