package site_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/token"
	"github.com/changebank/anonuser/shared/token/tokentest"
)

func TestFirstVisitCreatesOneStubUser(t *testing.T) {
	e := newEnv(t)
	resp := e.visit(t, http.MethodGet, "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status=%d, want 200", resp.StatusCode)
	}
	if got := e.client.Counter().Total(); got != 1 || e.client.Counter().Count("POST /api/user") != 1 {
		t.Errorf("FusionAuth calls=%d (%v), want exactly 1 (POST /api/user: the cookie is signed here, not vended)", got, e.client.Counter().Snapshot())
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
	userID, _, err := e.video.Tokens.Verify(c.Value)
	if err != nil {
		t.Fatalf("cookie does not verify: %v", err)
	}
	if _, _, err := tokentest.Visitor(t, time.Now(), e.keys[0]).Verify(c.Value); err != nil {
		t.Errorf("cookie is not signed with the first key: %v", err)
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

// TestCookiePathFetchesNoJWKS: the cookie is checked with the function's own keys, so
// neither a cold start of video or register nor 1,000 visits fetch FusionAuth's JWKS;
// only the webhook function fetched it, once.
func TestCookiePathFetchesNoJWKS(t *testing.T) {
	e := newEnv(t)
	if coldStart := e.fa.Calls("GET /.well-known/jwks.json"); coldStart != 1 {
		t.Errorf("JWKS fetched %d times at cold start, want 1 (the webhook's verifier only)", coldStart)
	}
	e.fa.ResetCalls()
	c := visitorCookie(e.visit(t, http.MethodGet, "", nil))
	for i := 0; i < 999; i++ {
		if resp := e.visit(t, http.MethodGet, c.Value, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("visit %d: status %d", i, resp.StatusCode)
		}
	}
	if resp := e.getRegister(t, c.Value); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /register: status %d", resp.StatusCode)
	}
	if got := e.fa.Calls("GET /.well-known/jwks.json"); got != 0 {
		t.Errorf("JWKS fetched %d times during 1,000 visits and a register page, want 0", got)
	}
	if got := e.fa.Calls("POST /api/jwt/vend") + e.fa.Calls("GET /api/key/{keyId}"); got != 0 {
		t.Errorf("vend or Key API called %d times, want 0", got)
	}
	u, _ := e.admin.RetrieveUser(context.Background(), mustVerify(t, e, c.Value))
	if u.User.Data["watchCount"] != float64(1000) {
		t.Errorf("watchCount=%v, want 1000", u.User.Data["watchCount"])
	}
}

// TestRefusedCookiesTouchNoAccount is the forged-cookie table through the handler:
// each is refused with no FusionAuth call, the page still renders, the cookie is
// cleared and the log names the reason but never the token.
func TestRefusedCookiesTouchNoAccount(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	valid := visitorCookie(e.visit(t, http.MethodGet, "", nil)).Value
	userID := mustVerify(t, e, valid)
	now := time.Now()
	current := e.keys[0]
	claims := func(extra map[string]any) map[string]any { return tokentest.Claims(userID, now, extra) }
	hs := func(secret []byte, kid string, c map[string]any) string {
		return tokentest.Sign(t, jwt.SigningMethodHS256, secret, kid, c)
	}
	rsaKey := tokentest.RSAKey(t)
	// A token FusionAuth itself signs (what the old, vended cookie was): no function key
	// may vend any more, so the test vends with the admin key.
	vended, err := e.admin.VendJWT(ctx, faclient.JWTVendRequest{Claims: map[string]any{"userId": userID, "purpose": token.PurposeVisitor},
		KeyID: e.fa.Variable("signingKeyId"), TimeToLiveInSeconds: 3600})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"garbage":                         "hello-world",
		"too long":                        valid + strings.Repeat("A", 2048),
		"alg none":                        tokentest.Unsigned(t, current.ID, claims(nil)),
		"HS256 keyed with a public key":   hs(tokentest.PublicPEM(t, rsaKey), current.ID, claims(nil)),
		"HS256 keyed with another secret": hs(tokentest.Key(t, "x").Secret, current.ID, claims(nil)),
		"RS256 with any key":              tokentest.Sign(t, jwt.SigningMethodRS256, rsaKey, current.ID, claims(nil)),
		"RS256 vended by FusionAuth":      vended.Token,
		"HS256 with an unknown kid":       hs(current.Secret, "cookie-0", claims(nil)),
		"signed with a key not listed":    tokentest.Visitor(t, now, tokentest.Key(t, "retired")).MustSign(t, userID),
		"expired":                         tokentest.Visitor(t, now.Add(-366*24*time.Hour), current).MustSign(t, userID),
		"payload altered":                 tokentest.AlterPayload(t, valid, tokentest.Claims("00000000-0000-0000-0000-111111111111", now, nil)),
		"missing userId":                  hs(current.Secret, current.ID, claims(map[string]any{"userId": nil})),
		"malformed userId":                hs(current.Secret, current.ID, claims(map[string]any{"userId": "../../api/user"})),
		"missing purpose":                 hs(current.Secret, current.ID, claims(map[string]any{"purpose": nil})),
		"wrong purpose":                   hs(current.Secret, current.ID, claims(map[string]any{"purpose": "session"})),
	}
	for name, forged := range cases {
		t.Run(name, func(t *testing.T) {
			before := e.fa.TotalCalls()
			e.client.Counter().Reset()
			resp := e.visit(t, http.MethodGet, forged, nil)
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
	logs := e.logs.String()
	if strings.Contains(logs, valid[:40]) || strings.Contains(logs, vended.Token[:40]) {
		t.Error("a token was written to the log")
	}
	for _, reason := range []string{"unknown kid", "expired", "bad signature or algorithm", "missing or wrong purpose", "missing or malformed userId", "too long", "malformed"} {
		if !strings.Contains(logs, `"reason":"`+reason+`"`) {
			t.Errorf("no warning names the reason %q; log:\n%s", reason, logs)
		}
	}
	u, _ := e.admin.RetrieveUser(ctx, userID)
	if u.User.Data["watchCount"] != float64(1) {
		t.Errorf("watchCount=%v after refused cookies, want 1", u.User.Data["watchCount"])
	}
}

// TestCookieKeyRotation: with a new key put in front of the list, a cookie signed with
// the now-second key still counts (same two FusionAuth calls) and comes back signed
// with the first; on the register page too.
func TestCookieKeyRotation(t *testing.T) {
	e := newEnv(t)
	first := visitorCookie(e.visit(t, http.MethodGet, "", nil)).Value
	userID := mustVerify(t, e, first)
	now := time.Now()
	signedWithSecond := tokentest.Visitor(t, now, e.keys[1]).MustSign(t, userID)
	onlyFirst := tokentest.Visitor(t, now, e.keys[0])

	e.client.Counter().Reset()
	resp := e.visit(t, http.MethodGet, signedWithSecond, nil)
	if got := e.client.Counter().Total(); got != 2 {
		t.Errorf("FusionAuth calls=%v, want 2 (read, patch)", e.client.Counter().Snapshot())
	}
	if !strings.Contains(body(t, resp), "<strong>2</strong> times") {
		t.Error("the visit with the older key's cookie was not counted")
	}
	c := visitorCookie(resp)
	if c == nil || c.MaxAge <= 0 {
		t.Fatalf("cookie=%+v, want it re-set", c)
	}
	if got, resign, err := onlyFirst.Verify(c.Value); err != nil || got != userID || resign {
		t.Errorf("re-set cookie: %q resign=%v err=%v, want it signed with the first key for %s", got, resign, err, userID)
	}
	// The re-signed cookie is current: the next visit leaves it alone.
	if c2 := visitorCookie(e.visit(t, http.MethodGet, c.Value, nil)); c2 != nil {
		t.Errorf("current cookie re-set again: %+v", c2)
	}

	resp = e.getRegister(t, signedWithSecond)
	c = visitorCookie(resp)
	if resp.StatusCode != http.StatusOK || c == nil {
		t.Fatalf("GET /register: status %d cookie %+v, want 200 and the cookie re-set", resp.StatusCode, c)
	}
	if _, _, err := onlyFirst.Verify(c.Value); err != nil {
		t.Errorf("register re-set a cookie not signed with the first key: %v", err)
	}
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
