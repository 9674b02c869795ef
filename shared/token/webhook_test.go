package token_test

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/changebank/anonuser/shared/token"
	"github.com/changebank/anonuser/shared/token/tokentest"
)

// jwks serves the public halves of keys (kid -> key) as FusionAuth's JWKS does, and
// counts the fetches.
func jwks(t *testing.T, keys map[string]*rsa.PrivateKey) (string, *atomic.Int64) {
	t.Helper()
	body := jwksBody(t, keys)
	fetches := new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/.well-known/jwks.json", fetches
}

// jwksBody is the JWKS document publishing the public halves of keys (kid -> key).
func jwksBody(t *testing.T, keys map[string]*rsa.PrivateKey) []byte {
	t.Helper()
	var set []map[string]string
	for kid, k := range keys {
		set = append(set, map[string]string{
			"kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid,
			"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes()),
		})
	}
	body, err := json.Marshal(map[string]any{"keys": set})
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func bodyClaims(body []byte, now time.Time) map[string]any {
	sum := sha256.Sum256(body)
	return map[string]any{"request_body_sha256": base64.StdEncoding.EncodeToString(sum[:]), "iat": now.Unix()}
}

func TestWebhookSignature(t *testing.T) {
	now := time.Now()
	hookKey, otherKey := tokentest.RSAKey(t), tokentest.RSAKey(t)
	url, fetches := jwks(t, map[string]*rsa.PrivateKey{"hook": hookKey, "access-tokens": otherKey})
	v, err := token.NewWebhook(context.Background(), token.WebhookOptions{JWKSURL: url, KID: "hook", RefreshMin: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if got := fetches.Load(); got != 1 {
		t.Fatalf("JWKS fetched %d times at start, want 1", got)
	}
	body := []byte(`{"event":{"type":"user.login.success"}}`)
	rs := func(k *rsa.PrivateKey, kid string, c map[string]any) string {
		return tokentest.Sign(t, jwt.SigningMethodRS256, k, kid, c)
	}
	if err := v.Verify(context.Background(), rs(hookKey, "hook", bodyClaims(body, now)), body); err != nil {
		t.Fatalf("FusionAuth's signature refused: %v", err)
	}
	cases := map[string]struct {
		signature, reason string
	}{
		"missing":                          {"", "signature missing"},
		"garbage":                          {"not.a.jwt", "malformed"},
		"another body":                     {rs(hookKey, "hook", bodyClaims([]byte(`{}`), now)), "body does not match its signature"},
		"no body hash":                     {rs(hookKey, "hook", map[string]any{"iat": now.Unix()}), "body does not match its signature"},
		"another published key, its kid":   {rs(otherKey, "access-tokens", bodyClaims(body, now)), "unknown kid"},
		"another key under the pinned kid": {rs(otherKey, "hook", bodyClaims(body, now)), "bad signature or algorithm"},
		"alg none":                         {tokentest.Unsigned(t, "hook", bodyClaims(body, now)), "bad signature or algorithm"},
		"HS256 keyed with the public key":  {tokentest.Sign(t, jwt.SigningMethodHS256, tokentest.PublicPEM(t, hookKey), "hook", bodyClaims(body, now)), "bad signature or algorithm"},
		"unknown kid":                      {rs(hookKey, "nobody", bodyClaims(body, now)), "unknown kid"},
		"expired":                          {rs(hookKey, "hook", map[string]any{"request_body_sha256": bodyClaims(body, now)["request_body_sha256"], "exp": now.Add(-time.Hour).Unix()}), "expired"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := v.Verify(context.Background(), tc.signature, body)
			if r := token.Reason(err); err == nil || r != tc.reason {
				t.Errorf("err=%v (reason %q), want refused as %q", err, r, tc.reason)
			}
		})
	}
	// The kid is pinned before the key set is asked: no forged kid made it refetch.
	if got := fetches.Load(); got != 1 {
		t.Errorf("JWKS fetched %d times in all, want 1 (forged kids must not trigger a refresh)", got)
	}
}

func TestNewWebhookNeedsAKID(t *testing.T) {
	if _, err := token.NewWebhook(context.Background(), token.WebhookOptions{JWKSURL: "http://127.0.0.1:1/jwks"}); err == nil {
		t.Error("a verifier without a kid was built")
	}
}

// TestWebhookToleratesHalfAMinuteOfClockSkew: FusionAuth's clock and the function's may
// disagree by a few seconds; beyond 30 seconds either way the signature is refused. The
// verifier reads the time from WebhookOptions.Now.
func TestWebhookToleratesHalfAMinuteOfClockSkew(t *testing.T) {
	now := time.Unix(1_000_000_000, 0) // long past: the real clock would refuse or accept the other cases
	hookKey := tokentest.RSAKey(t)
	url, _ := jwks(t, map[string]*rsa.PrivateKey{"hook": hookKey})
	v, err := token.NewWebhook(context.Background(), token.WebhookOptions{JWKSURL: url, KID: "hook", RefreshMin: time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"event":{"type":"user.login.success"}}`)
	at := func(iat, exp time.Duration) string {
		c := bodyClaims(body, now.Add(iat))
		if exp != 0 {
			c["exp"] = now.Add(exp).Unix()
		}
		return tokentest.Sign(t, jwt.SigningMethodRS256, hookKey, "hook", c)
	}
	cases := map[string]struct {
		signature, reason string // reason "" = accepted
	}{
		"issued 29 s in the future": {at(29*time.Second, 0), ""},
		"issued 31 s in the future": {at(31*time.Second, 0), "not valid yet"},
		"expired 29 s ago":          {at(-time.Hour, -29*time.Second), ""},
		"expired 31 s ago":          {at(-time.Hour, -31*time.Second), "expired"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := v.Verify(context.Background(), tc.signature, body)
			if tc.reason == "" {
				if err != nil {
					t.Errorf("refused: %v", err)
				}
				return
			}
			if r := token.Reason(err); err == nil || r != tc.reason {
				t.Errorf("err=%v (reason %q), want refused as %q", err, r, tc.reason)
			}
		})
	}
}

// TestWebhookLengthLimit: a signature of exactly 4096 bytes is still checked; one byte
// more is refused before it is parsed.
func TestWebhookLengthLimit(t *testing.T) {
	now := time.Now()
	hookKey := tokentest.RSAKey(t)
	url, _ := jwks(t, map[string]*rsa.PrivateKey{"hook": hookKey})
	v, err := token.NewWebhook(context.Background(), token.WebhookOptions{JWKSURL: url, KID: "hook", RefreshMin: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"event":{"type":"user.login.success"}}`)
	atLimit := signedOfLength(t, 4096, jwt.SigningMethodRS256, hookKey, "hook", bodyClaims(body, now))
	if err := v.Verify(context.Background(), atLimit, body); err != nil {
		t.Errorf("4096-byte signature refused: %v", err)
	}
	over := signedOfLength(t, 4097, jwt.SigningMethodRS256, hookKey, "hook", bodyClaims(body, now))
	if err := v.Verify(context.Background(), over, body); token.Reason(err) != "too long" {
		t.Errorf("4097-byte signature: err=%v, want refused as too long", err)
	}
}

// TestWebhookRefetchesAMissingKeyAtMostOncePerInterval: while the pinned key is not in
// FusionAuth's JWKS (not yet published, or the configured kid is wrong), signatures under
// that kid, forged or not, make the verifier fetch the JWKS again at most once per
// RefreshMin (default five minutes), so a stream of them cannot hammer FusionAuth.
func TestWebhookRefetchesAMissingKeyAtMostOncePerInterval(t *testing.T) {
	now := time.Now()
	hookKey, otherKey := tokentest.RSAKey(t), tokentest.RSAKey(t)
	url, fetches := jwks(t, map[string]*rsa.PrivateKey{"access-tokens": otherKey})
	v, err := token.NewWebhook(context.Background(), token.WebhookOptions{JWKSURL: url, KID: "hook"}) // default RefreshMin
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"event":{"type":"user.login.success"}}`)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // as a Lambda invocation's
	defer cancel()
	for i := range 3 {
		err := v.Verify(ctx, tokentest.Sign(t, jwt.SigningMethodRS256, hookKey, "hook", bodyClaims(body, now)), body)
		if r := token.Reason(err); r != "signing key unavailable" {
			t.Errorf("signature %d: err=%v (reason %q), want refused as signing key unavailable", i+1, err, r)
		}
	}
	if got := fetches.Load(); got != 2 {
		t.Errorf("JWKS fetched %d times, want 2 (at start, then once for the missing key)", got)
	}
}

// TestWebhookRecoversFromAnOutageAtColdStart: FusionAuth did not answer the JWKS fetch at
// cold start; the first signature fetches it again and is accepted. Every fetch goes
// through WebhookOptions.HTTPClient and has between 1 and 5 seconds to finish: long
// enough for a real round trip, short enough to leave the invocation its budget.
func TestWebhookRecoversFromAnOutageAtColdStart(t *testing.T) {
	now := time.Now()
	hookKey := tokentest.RSAKey(t)
	doc := jwksBody(t, map[string]*rsa.PrivateKey{"hook": hookKey})
	var fetches atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if fetches.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		time.Sleep(5 * time.Millisecond) // a round trip across a network, not over loopback
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(doc)
	}))
	t.Cleanup(srv.Close)
	target, err := neturl.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var budgets []time.Duration // time left to each fetch; 0 = no deadline
	// The configured client is the only way to the JWKS: the URL itself names a closed port.
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		var left time.Duration
		if d, ok := r.Context().Deadline(); ok {
			left = time.Until(d)
		}
		mu.Lock()
		budgets = append(budgets, left)
		mu.Unlock()
		r = r.Clone(r.Context())
		r.URL.Host, r.Host = target.Host, ""
		return http.DefaultTransport.RoundTrip(r)
	})}
	v, err := token.NewWebhook(context.Background(), token.WebhookOptions{
		JWKSURL: "http://127.0.0.1:1/.well-known/jwks.json", KID: "hook", HTTPClient: client})
	if err != nil {
		t.Fatalf("NewWebhook with FusionAuth down: %v, want started anyway", err)
	}
	body := []byte(`{"event":{"type":"user.login.success"}}`)
	for i := range 2 {
		if err := v.Verify(context.Background(), tokentest.Sign(t, jwt.SigningMethodRS256, hookKey, "hook", bodyClaims(body, now)), body); err != nil {
			t.Errorf("signature %d after the outage: %v, want accepted", i+1, err)
		}
	}
	if got := fetches.Load(); got != 2 {
		t.Errorf("JWKS fetched %d times, want 2 (the failed one at start, then once)", got)
	}
	mu.Lock()
	defer mu.Unlock()
	for i, left := range budgets {
		if left < time.Second || left > 5*time.Second {
			t.Errorf("fetch %d had %v to finish, want between 1 s and 5 s", i+1, left)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
