package site_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/app/registerapp"
	"github.com/changebank/anonuser/shared/app/videoapp"
	"github.com/changebank/anonuser/shared/app/webhookapp"
	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/faclient/fatest"
	"github.com/changebank/anonuser/shared/site"
)

const cookieName = "anon_user"

// env is a video function wired to an in-memory FusionAuth, as the Lambda wires it.
type env struct {
	fa         *fatest.Server
	video      *site.Video
	client     *faclient.Client // the function's own client: its counter is the function's calls
	register   *site.Register
	regClient  *faclient.Client
	webhook    *site.Webhook
	hookClient *faclient.Client
	hookURL    string
	admin      *faclient.Client
	offset     *atomic.Int64 // added to the FusionAuth clock, in seconds
	signKey    string        // Key Master id of the cookie key
	logs       *strings.Builder
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	e := &env{offset: new(atomic.Int64), logs: new(strings.Builder)}
	// FusionAuth delivers its login webhook to this server, which serves e.webhook.
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { e.webhook.ServeHTTP(w, r) }))
	tb.Cleanup(hook.Close)
	e.hookURL = hook.URL
	e.fa = fatest.NewTestServer(tb, fatest.Options{
		Now: func() time.Time {
			return time.Now().Add(time.Duration(e.offset.Load()) * time.Second)
		},
		Variables: map[string]string{"webhookURL": hook.URL, "appURL": "https://changebank.example"},
	})
	e.signKey = e.fa.Variable("signingKeyId")
	cfg := config.Video{
		FusionAuth: config.FusionAuth{URL: e.fa.URL(), TenantID: e.fa.Variable("defaultTenantId"), ApplicationID: e.fa.Variable("applicationId")},
		Cookie:     config.Cookie{SigningKeyID: e.signKey, Name: cookieName},
		VideoURL:   config.DefaultVideoURL,
	}
	log := slog.New(slog.NewJSONHandler(&lockedWriter{w: e.logs}, nil))
	// Each function's own client, so its counter holds only that function's calls.
	client := func(key string) *faclient.Client {
		c, err := faclient.New(faclient.Options{BaseURL: e.fa.URL(), TenantID: cfg.TenantID, Keys: faclient.StaticKey(e.fa.Variable(key))})
		if err != nil {
			tb.Fatal(err)
		}
		return c
	}
	e.client, e.regClient, e.hookClient = client("videoApiKey"), client("registerApiKey"), client("webhookApiKey")
	var err error
	e.video, err = videoapp.New(context.Background(), cfg, e.client, log)
	if err != nil {
		tb.Fatalf("videoapp.New: %v", err)
	}
	faCfg := cfg.FusionAuth
	e.register, err = registerapp.New(context.Background(), config.Register{FusionAuth: faCfg, Cookie: cfg.Cookie,
		PublicFusionAuthURL: e.fa.URL(), RedirectURI: "https://changebank.example/video"}, e.regClient, log)
	if err != nil {
		tb.Fatalf("registerapp.New: %v", err)
	}
	e.webhook, err = webhookapp.New(context.Background(), config.Webhook{FusionAuth: faCfg,
		SigningKeyID: e.fa.Variable("webhookSigningKeyId"), SecretHeader: site.DefaultSecretHeader},
		e.hookClient, e.fa.Variable("webhookSecret"), log)
	if err != nil {
		tb.Fatalf("webhookapp.New: %v", err)
	}
	// What the functions did at cold start (reading the signing keys' kid) is not
	// part of any request: count from here on.
	for _, c := range []*faclient.Client{e.client, e.regClient, e.hookClient} {
		c.Counter().Reset()
	}
	e.admin, err = faclient.New(faclient.Options{BaseURL: e.fa.URL(), Keys: faclient.StaticKey(e.fa.Variable("apiKey"))})
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// visit sends GET /video with an optional cookie value and returns the response.
func (e *env) visit(tb testing.TB, method, cookie string, header map[string]string) *http.Response {
	tb.Helper()
	r := httptest.NewRequest(method, "https://changebank.example/video", nil)
	if cookie != "" {
		r.AddCookie(&http.Cookie{Name: cookieName, Value: cookie})
	}
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.video.ServeHTTP(w, r)
	return w.Result()
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

func TestFirstVisitCreatesOneStubUser(t *testing.T) {
	e := newEnv(t)
	resp := e.visit(t, http.MethodGet, "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status=%d, want 200", resp.StatusCode)
	}
	if got := e.client.Counter().Total(); got != 2 {
		t.Errorf("FusionAuth calls=%d (%v), want 2 (create, vend)", got, e.client.Counter().Snapshot())
	}
	if e.client.Counter().Count("POST /api/user") != 1 || e.client.Counter().Count("POST /api/jwt/vend") != 1 {
		t.Errorf("calls=%v, want one POST /api/user and one POST /api/jwt/vend", e.client.Counter().Snapshot())
	}
	c := visitorCookie(resp)
	if c == nil {
		t.Fatal("no visitor cookie set")
	}
	if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.MaxAge != 31536000 {
		t.Errorf("cookie=%+v, want HttpOnly Secure SameSite=Lax Path=/ Max-Age=31536000", c)
	}
	if got := resp.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control=%q, want no-store", got)
	}
	userID, err := e.video.Tokens.Verify(context.Background(), c.Value)
	if err != nil {
		t.Fatalf("cookie does not verify: %v", err)
	}
	u, err := e.admin.RetrieveUser(context.Background(), userID)
	if err != nil {
		t.Fatalf("created user not found: %v", err)
	}
	if u.User.Data["anonymousUser"] != true || u.User.Data["watchCount"] != float64(1) {
		t.Errorf("data=%v, want anonymousUser=true watchCount=1", u.User.Data)
	}
	if len(u.User.Username) != 64 || u.User.Email != "" {
		t.Errorf("username %q (len %d), email %q: want 64 random characters and no email", u.User.Username, len(u.User.Username), u.User.Email)
	}
	if !strings.Contains(body(t, resp), "<strong>1</strong> time") {
		t.Error("page does not show a watch count of 1")
	}
}

func TestReturningVisitCountsUpWithTwoCalls(t *testing.T) {
	e := newEnv(t)
	first := visitorCookie(e.visit(t, http.MethodGet, "", nil))
	e.client.Counter().Reset()
	resp := e.visit(t, http.MethodGet, first.Value, nil)
	if got := e.client.Counter().Total(); got != 2 {
		t.Errorf("FusionAuth calls=%d (%v), want 2 (read, patch)", got, e.client.Counter().Snapshot())
	}
	if visitorCookie(resp) != nil {
		t.Error("returning visit re-set the cookie")
	}
	if !strings.Contains(body(t, resp), "<strong>2</strong> times") {
		t.Error("page does not show a watch count of 2")
	}
}

func TestThousandVisitsFetchJWKSOnce(t *testing.T) {
	e := newEnv(t)
	// Each function's verifier fetched the JWKS once at cold start (video, register, webhook).
	coldStart := e.fa.Calls("GET /.well-known/jwks.json")
	if coldStart != 3 {
		t.Errorf("JWKS fetched %d times at cold start, want once per verifier (3)", coldStart)
	}
	c := visitorCookie(e.visit(t, http.MethodGet, "", nil))
	for i := 0; i < 999; i++ {
		if resp := e.visit(t, http.MethodGet, c.Value, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("visit %d: status %d", i, resp.StatusCode)
		}
	}
	if got := e.fa.Calls("GET /.well-known/jwks.json") - coldStart; got != 0 {
		t.Errorf("JWKS fetched %d more times during 1,000 visits, want 0 (1 fetch in all for the video function)", got)
	}
	u, _ := e.admin.RetrieveUser(context.Background(), mustVerify(t, e, c.Value))
	if u.User.Data["watchCount"] != float64(1000) {
		t.Errorf("watchCount=%v, want 1000", u.User.Data["watchCount"])
	}
}

func mustVerify(tb testing.TB, e *env, token string) string {
	tb.Helper()
	id, err := e.video.Tokens.Verify(context.Background(), token)
	if err != nil {
		tb.Fatal(err)
	}
	return id
}

func TestRefusedCookiesTouchNoAccount(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	valid := visitorCookie(e.visit(t, http.MethodGet, "", nil)).Value
	userID := mustVerify(t, e, valid)
	key, err := e.admin.RetrieveKey(ctx, e.signKey)
	if err != nil {
		t.Fatal(err)
	}
	vend := func(keyID string, claims map[string]any, ttl int) string {
		t.Helper()
		resp, err := e.admin.VendJWT(ctx, faclient.JWTVendRequest{Claims: claims, KeyID: keyID, TimeToLiveInSeconds: ttl})
		if err != nil {
			t.Fatalf("vend: %v", err)
		}
		return resp.Token
	}
	visitorClaims := map[string]any{"userId": userID, "purpose": anon.PurposeVisitor}
	e.offset.Store(-2 * 24 * 3600)
	expired := vend(e.signKey, visitorClaims, 3600)
	e.offset.Store(0)

	cases := map[string]string{
		"not a JWT":                     "hello-world",
		"alg none":                      unsigned(t, key.Key.KID, visitorClaims),
		"HS256 with the RSA public key": hmacWithPublicKey(t, key.Key.KID, key.Key.PublicKey, visitorClaims),
		"other key in the same JWKS":    vend(e.fa.Variable("webhookSigningKeyId"), visitorClaims, 3600),
		"expired":                       expired,
		"payload altered":               alterPayload(t, valid, map[string]any{"userId": "00000000-0000-0000-0000-111111111111", "purpose": anon.PurposeVisitor, "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()}),
		"missing userId":                vend(e.signKey, map[string]any{"purpose": anon.PurposeVisitor}, 3600),
		"not a visitor token":           vend(e.signKey, map[string]any{"userId": userID}, 3600),
	}
	for name, token := range cases {
		t.Run(name, func(t *testing.T) {
			before := e.fa.TotalCalls()
			e.client.Counter().Reset()
			resp := e.visit(t, http.MethodGet, token, nil)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("status=%d, want 200 (the page still renders)", resp.StatusCode)
			}
			if got := e.client.Counter().Total(); got != 0 {
				t.Errorf("FusionAuth calls=%v, want none", e.client.Counter().Snapshot())
			}
			if got := e.fa.TotalCalls() - before; got != 0 {
				t.Errorf("FusionAuth server saw %d calls, want 0", got)
			}
			c := visitorCookie(resp)
			if c == nil || c.MaxAge >= 0 || c.Value != "" {
				t.Errorf("cookie=%+v, want it cleared (Max-Age=0)", c)
			}
		})
	}
	if strings.Contains(e.logs.String(), valid[:40]) {
		t.Error("a token was written to the log")
	}
	if !strings.Contains(e.logs.String(), `"reason":"wrong kid"`) || !strings.Contains(e.logs.String(), `"reason":"expired"`) {
		t.Errorf("warnings do not name the reasons; log:\n%s", e.logs.String())
	}
	u, _ := e.admin.RetrieveUser(ctx, userID)
	if u.User.Data["watchCount"] != float64(1) {
		t.Errorf("watchCount=%v after refused cookies, want 1", u.User.Data["watchCount"])
	}
}

func unsigned(tb testing.TB, kid string, claims map[string]any) string {
	tb.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims(withTimes(claims)))
	tok.Header["kid"] = kid
	s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// hmacWithPublicKey forges the classic algorithm-confusion token: HS256 keyed with
// the RSA public key everyone can read from the JWKS.
func hmacWithPublicKey(tb testing.TB, kid, publicPEM string, claims map[string]any) string {
	tb.Helper()
	block, _ := pem.Decode([]byte(publicPEM))
	if block == nil {
		tb.Fatalf("public key is not PEM: %q", publicPEM)
	}
	if _, err := x509.ParsePKIXPublicKey(block.Bytes); err != nil {
		if _, err2 := x509.ParsePKCS1PublicKey(block.Bytes); err2 != nil {
			tb.Fatalf("public key: %v", err)
		}
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(withTimes(claims)))
	tok.Header["kid"] = kid
	s, err := tok.SignedString([]byte(publicPEM))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func withTimes(claims map[string]any) map[string]any {
	out := map[string]any{"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()}
	for k, v := range claims {
		out[k] = v
	}
	return out
}

// alterPayload swaps the payload of a signed token, keeping header and signature.
func alterPayload(tb testing.TB, token string, claims map[string]any) string {
	tb.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		tb.Fatalf("token has %d parts", len(parts))
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims(claims))
	unsigned, err := tok.SigningString()
	if err != nil {
		tb.Fatal(err)
	}
	payload := strings.Split(unsigned, ".")[1]
	if _, err := base64.RawURLEncoding.DecodeString(payload); err != nil {
		tb.Fatal(err)
	}
	return parts[0] + "." + payload + "." + parts[2]
}

func TestDeletedUserStartsNewProfile(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	old := visitorCookie(e.visit(t, http.MethodGet, "", nil)).Value
	oldID := mustVerify(t, e, old)
	if err := e.admin.DeleteUser(ctx, oldID); err != nil {
		t.Fatal(err)
	}
	resp := e.visit(t, http.MethodGet, old, nil)
	c := visitorCookie(resp)
	if c == nil || c.Value == "" || c.MaxAge <= 0 {
		t.Fatalf("cookie=%+v, want a new visitor cookie", c)
	}
	newID := mustVerify(t, e, c.Value)
	if newID == oldID {
		t.Error("new cookie names the deleted user")
	}
	if !strings.Contains(body(t, resp), "<strong>1</strong> time") {
		t.Error("new profile does not start at 1")
	}
}

func TestHeadAndPrefetchCreateNothing(t *testing.T) {
	cases := map[string]struct {
		method string
		header map[string]string
	}{
		"HEAD":                   {http.MethodHead, nil},
		"Sec-Purpose: prefetch":  {http.MethodGet, map[string]string{"Sec-Purpose": "prefetch"}},
		"Sec-Purpose: prerender": {http.MethodGet, map[string]string{"Sec-Purpose": "prefetch;prerender"}},
		"Purpose: prefetch":      {http.MethodGet, map[string]string{"Purpose": "prefetch"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			resp := e.visit(t, tc.method, "", tc.header)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("status=%d, want 200", resp.StatusCode)
			}
			if got := e.client.Counter().Total(); got != 0 {
				t.Errorf("FusionAuth calls=%v, want none", e.client.Counter().Snapshot())
			}
			if c := visitorCookie(resp); c != nil {
				t.Errorf("cookie set on a %s request", name)
			}
		})
	}
}

func TestFusionAuthOutageGivesFriendlyPage(t *testing.T) {
	e := newEnv(t)
	e.fa.InjectFault("POST /api/user", http.StatusServiceUnavailable, 1)
	resp := e.visit(t, http.MethodGet, "", nil)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status=%d, want 503", resp.StatusCode)
	}
	b := body(t, resp)
	if !strings.Contains(b, "briefly unavailable") || strings.Contains(b, "fusionauth") {
		t.Errorf("page is not the friendly outage page:\n%s", b)
	}
	if visitorCookie(resp) != nil {
		t.Error("cookie set although no profile was created")
	}
}

func BenchmarkReturningVisit(b *testing.B) {
	e := newEnv(b)
	c := visitorCookie(e.visit(b, http.MethodGet, "", nil))
	e.client.Counter().Reset()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := httptest.NewRequest(http.MethodGet, "https://changebank.example/video", nil)
		r.AddCookie(c)
		w := httptest.NewRecorder()
		e.video.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
	b.ReportMetric(float64(e.client.Counter().Total())/float64(b.N), "fa-calls/op")
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
