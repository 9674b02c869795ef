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
	fetches := new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/.well-known/jwks.json", fetches
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
