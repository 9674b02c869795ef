package site_test

// What the sign-in tests share: a browser that keeps the site's cookies and
// FusionAuth's, the walk through FusionAuth's hosted login, and a proxy between the
// register function and FusionAuth that can replace the ID token of a code exchange.

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/site"
)

// tokenProxy forwards everything to FusionAuth; while forge is set, the id_token of a
// successful /oauth2/token answer is replaced by forge(its claims, its header).
type tokenProxy struct {
	*httptest.Server
	mu    sync.Mutex
	forge func(claims jwt.MapClaims, header map[string]any) string
}

func newTokenProxy(tb testing.TB, target string) *tokenProxy {
	tb.Helper()
	u, err := url.Parse(target)
	if err != nil {
		tb.Fatal(err)
	}
	p := &tokenProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(resp *http.Response) error {
		p.mu.Lock()
		forge := p.forge
		p.mu.Unlock()
		if forge == nil || resp.Request.URL.Path != "/oauth2/token" || resp.StatusCode != http.StatusOK {
			return nil
		}
		var body map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			return err
		}
		_ = resp.Body.Close()
		claims := jwt.MapClaims{}
		parsed, _, err := jwt.NewParser().ParseUnverified(body["id_token"].(string), claims)
		if err != nil {
			return err
		}
		body["id_token"] = forge(claims, parsed.Header)
		b, _ := json.Marshal(body)
		resp.Body = io.NopCloser(strings.NewReader(string(b)))
		resp.ContentLength = int64(len(b))
		resp.Header.Del("Content-Length")
		return nil
	}
	p.Server = httptest.NewServer(rp)
	tb.Cleanup(p.Close)
	return p
}

// setForge replaces ID tokens from now on (nil: no more).
func (p *tokenProxy) setForge(f func(jwt.MapClaims, map[string]any) string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.forge = f
}

// vendIDToken signs claims with the application's ID-token key (kickstart's
// signingKeyId) through the Vend API, valid for an hour from FusionAuth's clock: a
// token FusionAuth's JWKS verifies, saying what the test wants.
func (e *env) vendIDToken(tb testing.TB, claims jwt.MapClaims) string {
	tb.Helper()
	c := maps.Clone(map[string]any(claims))
	resp, err := e.admin.VendJWT(context.Background(), faclient.JWTVendRequest{KeyID: e.fa.Variable("signingKeyId"), TimeToLiveInSeconds: 3600, Claims: c})
	if err != nil {
		tb.Fatalf("vend ID token: %v", err)
	}
	return resp.Token
}

// browser is one browser: the site's cookies (kept as a browser keeps them, by path)
// and its own cookie jar for FusionAuth's pages (the SSO session).
type browser struct {
	e      *env
	site   map[string]*http.Cookie
	fa     *http.Client
	header map[string]string
	addr   string // the browser's address, as the site sees it
}

func (e *env) newBrowser(tb testing.TB) *browser {
	tb.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return &browser{e: e, site: map[string]*http.Cookie{}, header: chromeNavigation, addr: e.nextAddr(),
		fa: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// get requests a path of the site (absolute or relative to origin) and keeps the
// cookies it sets. /video goes to the video function, the rest to the register one.
func (b *browser) get(tb testing.TB, target string) *http.Response {
	tb.Helper()
	if strings.HasPrefix(target, "/") {
		target = origin + target
	}
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.RemoteAddr = b.addr
	override(r.Header, b.header)
	for _, c := range b.site {
		if strings.HasPrefix(r.URL.Path, c.Path) {
			r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	w := httptest.NewRecorder()
	if r.URL.Path == "/video" {
		b.e.video.ServeHTTP(w, r)
	} else {
		b.e.register.ServeHTTP(w, r)
	}
	resp := w.Result()
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 {
			delete(b.site, c.Name)
		} else {
			if c.Path == "" {
				c.Path = "/"
			}
			b.site[c.Name] = c
		}
	}
	return resp
}

// cookie is the site cookie name the browser holds, nil when none.
func (b *browser) cookie(name string) *http.Cookie { return b.site[name] }

// watch visits /video and returns the page.
func (b *browser) watch(tb testing.TB) string {
	tb.Helper()
	resp := b.get(tb, "/video")
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET /video: status %d", resp.StatusCode)
	}
	return body(tb, resp)
}

// started is a sign-in /login started: FusionAuth's page it sends the browser to.
type started struct {
	location *url.URL
}

// startSignIn requests path (/login, /login?screen=register) in a fresh browser and
// returns where it sends the browser.
func (e *env) startSignIn(tb testing.TB, path string) started {
	tb.Helper()
	return e.newBrowser(tb).startSignIn(tb, path)
}

func (b *browser) startSignIn(tb testing.TB, path string) started {
	tb.Helper()
	resp := b.get(tb, path)
	if resp.StatusCode != http.StatusFound {
		tb.Fatalf("GET %s: status %d, want 302", path, resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		tb.Fatal(err)
	}
	return started{location: loc}
}

// fusionAuth sends a request to FusionAuth's hosted pages with the browser's jar,
// without following redirects.
func (b *browser) fusionAuth(tb testing.TB, method, target string, form url.Values) *http.Response {
	tb.Helper()
	var rd io.Reader
	if form != nil {
		rd = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		tb.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.fa.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, target, err)
	}
	return resp
}

// logInAtFusionAuth starts a sign-in and logs in on FusionAuth's login page (or is let
// through by the SSO session when password is ""), returning the callback URL
// FusionAuth sends the browser to.
func (b *browser) logInAtFusionAuth(tb testing.TB, email, password string) string {
	tb.Helper()
	loc := b.startSignIn(tb, site.LoginPath).location
	resp := b.fusionAuth(tb, http.MethodGet, loc.String(), nil)
	if password != "" {
		_ = resp.Body.Close()
		resp = b.fusionAuth(tb, http.MethodPost, loc.String(), url.Values{"loginId": {email}, "password": {password}})
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		page, _ := io.ReadAll(resp.Body)
		tb.Fatalf("FusionAuth login as %s: status %d, want a redirect with a code:\n%s", email, resp.StatusCode, page)
	}
	return resp.Header.Get("Location")
}

// signIn walks the whole sign-in as email and returns the callback's answer.
func (b *browser) signIn(tb testing.TB, email, password string) *http.Response {
	tb.Helper()
	return b.get(tb, b.logInAtFusionAuth(tb, email, password))
}

// wantSignedIn checks a callback answer: a 303 to /video, the session cookie set
// HttpOnly, Secure, SameSite=Lax for the whole site.
func wantSignedIn(tb testing.TB, resp *http.Response) {
	tb.Helper()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/video" {
		tb.Fatalf("callback: status %d Location %q, want 303 to /video:\n%s", resp.StatusCode, resp.Header.Get("Location"), body(tb, resp))
	}
	c := cookieNamed(resp, site.DefaultSessionCookie)
	if c == nil || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.MaxAge <= 0 {
		tb.Fatalf("session cookie %+v, want HttpOnly Secure SameSite=Lax Path=/ with a lifetime", c)
	}
	// The landing mark is for the next /video only, and for a minute at most: a page
	// opened later counts its watch as usual.
	if w := cookieNamed(resp, "signed_in"); w == nil || w.Path != "/video" || w.MaxAge <= 0 || w.MaxAge > 60 {
		tb.Fatalf("landing cookie %+v, want Path=/video for at most a minute", w)
	}
}

func cookieNamed(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// regular is kickstart's regular user (Richard): his id, address and password.
func (e *env) regular() (id, email, password string) {
	return e.fa.Variable("regularUserId"), e.fa.Variable("regularEmail"), e.fa.Variable("regularPassword")
}

// setWatchCount sets a user's count with the admin key.
func (e *env) setWatchCount(tb testing.TB, id string, n int) {
	tb.Helper()
	if _, err := e.admin.PatchUser(context.Background(), id, map[string]any{"user": map[string]any{"data": map[string]any{"watchCount": n}}}); err != nil {
		tb.Fatal(err)
	}
}
