package site_test

// The shared setup of the site tests: the video, register and webhook functions wired
// as the Lambda wires them, against one in-memory FusionAuth, and the requests the
// tests send them.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/app"
	"github.com/changebank/anonuser/shared/app/registerapp"
	"github.com/changebank/anonuser/shared/app/videoapp"
	"github.com/changebank/anonuser/shared/app/webhookapp"
	"github.com/changebank/anonuser/shared/clocktest"
	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/faclient/fatest"
	"github.com/changebank/anonuser/shared/limit"
	"github.com/changebank/anonuser/shared/lock"
	"github.com/changebank/anonuser/shared/site"
	"github.com/changebank/anonuser/shared/token"
	"github.com/changebank/anonuser/shared/token/tokentest"
)

const cookieName = "anon_user"

// env is a video function wired to an in-memory FusionAuth, as the Lambda wires it.
type env struct {
	fa         *fatest.Server
	video      *site.Video
	client     *faclient.Client      // the function's own client: its counter is the function's calls
	register   *registerapp.Function // /register, /login, /callback, /logout
	regClient  *faclient.Client
	webhook    *site.Webhook
	hookClient *faclient.Client
	locks      *lock.Memory  // the profile leases every function takes
	limits     *limit.Memory // the per-client counts of video and register
	addrs      atomic.Uint32 // the last client address handed out (nextAddr)
	hookURL    string
	admin      *faclient.Client
	clock      *clocktest.Clock // FusionAuth's clock, and the functions' (register's limits, the webhook's replay window)
	keys       []token.Key      // the cookie keys, current first
	logs       *strings.Builder
	logw       *lockedWriter
	hookDown   atomic.Bool // the webhook answers 500 without acting (a delivery lost)
	proxy      *tokenProxy // between the register function and FusionAuth
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	e := &env{clock: clocktest.New(time.Now()), logs: new(strings.Builder)}
	// FusionAuth delivers its login webhook to this server, which serves e.webhook.
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e.hookDown.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		e.webhook.ServeHTTP(w, r)
	}))
	tb.Cleanup(hook.Close)
	e.hookURL = hook.URL
	e.fa = fatest.NewTestServer(tb, fatest.Options{
		Now:       e.clock.Now,
		Variables: map[string]string{"webhookURL": hook.URL, "appURL": "https://changebank.example"},
	})
	e.keys = []token.Key{tokentest.Key(tb, "cookie-2"), tokentest.Key(tb, "cookie-1")}
	cfg := config.Video{
		FusionAuth: config.FusionAuth{URL: e.fa.URL(), TenantID: e.fa.Variable("visitorTenantId"), ApplicationID: e.fa.Variable("applicationId")},
		Cookie:     config.Cookie{Name: cookieName},
		VideoURL:   config.DefaultVideoURL,
	}
	e.logw = &lockedWriter{w: e.logs}
	log := slog.New(slog.NewJSONHandler(e.logw, nil))
	var err error
	e.admin, err = faclient.New(faclient.Options{BaseURL: e.fa.URL(), Keys: faclient.StaticKey(e.fa.Variable("apiKey"))})
	if err != nil {
		tb.Fatal(err)
	}
	// Each function's own client, so its counter holds only that function's calls.
	client := func(key string) *faclient.Client {
		c, err := faclient.New(faclient.Options{BaseURL: e.fa.URL(), TenantID: cfg.TenantID, Keys: faclient.StaticKey(e.fa.Variable(key))})
		if err != nil {
			tb.Fatal(err)
		}
		return c
	}
	e.client, e.regClient, e.hookClient = client("videoApiKey"), client("registerApiKey"), client("webhookApiKey")
	e.locks = lock.NewMemory() // the functions' one lease table, as in a deployment
	e.limits = limit.NewMemory()
	stores := app.Stores{Locks: e.locks, Limits: e.limits}
	cfg.Stubs.PerHour, cfg.StubsPerDay = config.DefaultStubsPerClientHour, config.DefaultStubsPerDay
	e.video, err = videoapp.New(cfg, e.client, e.keys, stores, log)
	if err != nil {
		tb.Fatalf("videoapp.New: %v", err)
	}
	faCfg := cfg.FusionAuth
	// The register function reaches FusionAuth through a proxy that lets a test replace
	// the ID token of a code exchange (forgeries); browsers reach FusionAuth directly.
	e.proxy = newTokenProxy(tb, e.fa.URL())
	regCfg := faCfg
	regCfg.URL = e.proxy.URL
	e.register, err = registerapp.New(config.Register{FusionAuth: regCfg, Cookie: cfg.Cookie,
		PublicFusionAuthURL: e.fa.URL(), RedirectURI: origin + site.CallbackPath,
		AccountExistsTemplateID: e.fa.Variable("accountExistsEmailTemplateId"),
		Requests:                config.ClientLimit{PerHour: config.DefaultRegistersPerClientHour}}, e.regClient, e.keys, e.fa.Variable("clientSecret"), stores, log)
	if err != nil {
		tb.Fatalf("registerapp.New: %v", err)
	}
	e.webhook, err = webhookapp.New(context.Background(), config.Webhook{FusionAuth: faCfg,
		SigningKID: e.fa.Variable("webhookSigningKid"), SecretHeader: site.DefaultSecretHeader},
		e.hookClient, e.fa.Variable("webhookSecret"), e.locks, log)
	if err != nil {
		tb.Fatalf("webhookapp.New: %v", err)
	}
	e.webhook.Now = e.clock.Now
	e.register.Register.Conversions = e.clockedConverter()
	// No function made a FusionAuth API call at cold start (the webhook fetched the
	// public JWKS, which needs no key).
	for _, c := range []*faclient.Client{e.client, e.regClient, e.hookClient} {
		if n := c.Counter().Total(); n != 0 {
			tb.Fatalf("FusionAuth calls at cold start: %v, want none", c.Counter().Snapshot())
		}
	}
	return e
}

// chromeNavigation are the headers current Chrome sends when a person opens a page.
var chromeNavigation = map[string]string{
	"User-Agent":     "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
	"Sec-Fetch-Mode": "navigate",
	"Sec-Fetch-Dest": "document",
	"Sec-Fetch-Site": "none",
	"Sec-Fetch-User": "?1",
}

// visit sends GET /video as a person's Chrome would, with an optional cookie value;
// header overrides those headers ("" removes one).
func (e *env) visit(tb testing.TB, method, cookie string, header map[string]string) *http.Response {
	tb.Helper()
	r := httptest.NewRequest(method, "https://changebank.example/video", nil)
	r.RemoteAddr = e.nextAddr()
	if cookie != "" {
		r.AddCookie(&http.Cookie{Name: cookieName, Value: cookie})
	}
	override(r.Header, chromeNavigation)
	override(r.Header, header)
	w := httptest.NewRecorder()
	e.video.ServeHTTP(w, r)
	return w.Result()
}

// nextAddr is a client address no request of this env has come from yet: the tests of
// other behaviours send each request from its own address, as many visitors would, so
// that only the tests of the limits meet them (limits_test.go).
func (e *env) nextAddr() string {
	n := e.addrs.Add(1)
	return fmt.Sprintf("10.%d.%d.%d:40000", n>>16&0xff, n>>8&0xff, n&0xff)
}

// override sets each header of with on h; an empty value removes the header.
func override(h http.Header, with map[string]string) {
	for k, v := range with {
		if v == "" {
			h.Del(k)
		} else {
			h.Set(k, v)
		}
	}
}

func visitorCookie(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == cookieName {
			return c
		}
	}
	return nil
}

func body(tb testing.TB, resp *http.Response) string {
	tb.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func mustVerify(tb testing.TB, e *env, token string) string {
	tb.Helper()
	id, _, err := e.video.Tokens.Verify(token)
	if err != nil {
		tb.Fatal(err)
	}
	return id
}

const origin = "https://changebank.example"

// post submits the register form like a same-origin browser would, unless header
// overrides it.
func (e *env) post(tb testing.TB, cookie, email string, header map[string]string) *http.Response {
	tb.Helper()
	form := url.Values{"email": {email}}.Encode()
	r := httptest.NewRequest(http.MethodPost, origin+"/register", strings.NewReader(form))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Origin", origin)
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	r.RemoteAddr = e.nextAddr()
	override(r.Header, header)
	if cookie != "" {
		r.AddCookie(&http.Cookie{Name: cookieName, Value: cookie})
	}
	w := httptest.NewRecorder()
	e.register.ServeHTTP(w, r)
	return w.Result()
}

func (e *env) getRegister(tb testing.TB, cookie string) *http.Response {
	tb.Helper()
	r := httptest.NewRequest(http.MethodGet, origin+"/register", nil)
	if cookie != "" {
		r.AddCookie(&http.Cookie{Name: cookieName, Value: cookie})
	}
	w := httptest.NewRecorder()
	e.register.ServeHTTP(w, r)
	return w.Result()
}

// newVisitor watches the video once and returns the cookie token and user id.
func (e *env) newVisitor(tb testing.TB) (string, string) {
	tb.Helper()
	c := visitorCookie(e.visit(tb, http.MethodGet, "", nil))
	if c == nil {
		tb.Fatal("no cookie")
	}
	return c.Value, mustVerify(tb, e, c.Value)
}

func (e *env) user(tb testing.TB, id string) faclient.User {
	tb.Helper()
	u, err := e.admin.RetrieveUser(context.Background(), id)
	if err != nil {
		tb.Fatalf("read user %s: %v", id, err)
	}
	return u.User
}

// sign vends a signature JWT for body with the Key Master key keyID, the way
// FusionAuth signs webhook calls (vend adds iat, exp and jti, which the handler accepts).
func (e *env) sign(tb testing.TB, keyID string, body []byte, ttl int) string {
	tb.Helper()
	sum := sha256.Sum256(body)
	resp, err := e.admin.VendJWT(context.Background(), faclient.JWTVendRequest{
		KeyID: keyID, TimeToLiveInSeconds: ttl,
		Claims: map[string]any{"request_body_sha256": base64.StdEncoding.EncodeToString(sum[:])},
	})
	if err != nil {
		tb.Fatalf("vend signature: %v", err)
	}
	return resp.Token
}

func (e *env) deliver(tb testing.TB, body []byte, header map[string]string) int {
	tb.Helper()
	r := httptest.NewRequest(http.MethodPost, "https://hook.example/", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(site.DefaultSecretHeader, e.fa.Variable("webhookSecret"))
	override(r.Header, header)
	w := httptest.NewRecorder()
	e.webhook.ServeHTTP(w, r)
	return w.Code
}

// pendingStub is a stub user with an email, as /register leaves it.
func (e *env) pendingStub(tb testing.TB) string {
	tb.Helper()
	cookie, id := e.newVisitor(tb)
	if resp := e.post(tb, cookie, fmt.Sprintf("pending-%s@example.com", id[:8]), nil); resp.StatusCode != http.StatusSeeOther {
		tb.Fatalf("register: %d, want 303 to the check-your-email page", resp.StatusCode)
	}
	return id
}

// provedStub is a stub whose visitor asked for an address and set a password through
// the emailed link (but has not logged in): it returns the id and the address.
func (e *env) provedStub(tb testing.TB) (string, string) {
	tb.Helper()
	id := e.pendingStub(tb)
	address := fmt.Sprintf("pending-%s@example.com", id[:8])
	e.setPasswordFromEmail(tb, address)
	return id, address
}

// clockedConverter is the register function's converter as registerapp builds it, on
// the test's clock, so that the email limits and emailPendingSince can be tested
// without waiting.
func (e *env) clockedConverter() *anon.Converter {
	return anon.NewConverter(e.regClient, e.locks, anon.ConverterOptions{
		ApplicationID:           e.fa.Variable("applicationId"),
		AccountExistsTemplateID: e.fa.Variable("accountExistsEmailTemplateId"),
		SignInURL:               origin + site.LoginPath,
		Now:                     e.clock.Now,
	})
}

// logText is everything the functions logged so far.
func (e *env) logText() string {
	e.logw.mu.Lock()
	defer e.logw.mu.Unlock()
	return e.logs.String()
}

// setPasswordFromEmail follows the newest set-password email sent to address, as the
// visitor would a few seconds after it arrived, and returns the password set. (The
// clock moves less than the 30 s of leeway the webhook's signature check allows, which
// runs on the real clock.)
func (e *env) setPasswordFromEmail(tb testing.TB, address string) string {
	tb.Helper()
	out := e.fa.Outbox()
	for i := len(out) - 1; i >= 0; i-- {
		if m := out[i]; m.To == address && m.ChangePasswordID != "" {
			e.clock.Advance(2 * time.Second)
			const password = "correct horse battery staple"
			anonClient, err := faclient.New(faclient.Options{BaseURL: e.fa.URL()})
			if err != nil {
				tb.Fatal(err)
			}
			if _, err := anonClient.ChangePassword(context.Background(), m.ChangePasswordID, faclient.ChangePasswordRequest{Password: password}); err != nil {
				tb.Fatalf("set password from the email to %s: %v", address, err)
			}
			return password
		}
	}
	tb.Fatalf("no set-password email to %s in the outbox", address)
	return ""
}

// lockedWriter serialises writes from concurrent handlers into one builder.
type lockedWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
