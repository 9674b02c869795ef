package fatest_test

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/changebank/anonuser/shared/faclient/fatest"
)

// jwks fetches the JWKS and returns a verifier plus the raw keys.
func jwks(tb testing.TB, s *fatest.Server) (keyfunc.Keyfunc, []map[string]any) {
	tb.Helper()
	r := do(tb, s, http.MethodGet, "/.well-known/jwks.json", "", nil)
	wantStatus(tb, r, http.StatusOK)
	kf, err := keyfunc.NewJWKSetJSON(json.RawMessage(r.raw))
	if err != nil {
		tb.Fatalf("JWKS %s: %v", r.raw, err)
	}
	var keys []map[string]any
	for _, k := range r.body["keys"].([]any) {
		keys = append(keys, k.(map[string]any))
	}
	return kf, keys
}

// vend vends a JWT and returns the raw token.
func vend(tb testing.TB, s *fatest.Server, key string, body map[string]any) string {
	tb.Helper()
	r := do(tb, s, http.MethodPost, "/api/jwt/vend", key, body)
	wantStatus(tb, r, http.StatusOK)
	return asString(r.body["token"])
}

func TestVendVerifiesWithJWKS(t *testing.T) {
	s, c := newServer(t, fatest.Options{})
	k := keysOf(s)
	keyID := s.Variable("signingKeyId")
	tok := vend(t, s, k.admin, map[string]any{
		"claims":              map[string]any{"userId": "u-1", "exp": 1, "iat": 2, "nested": map[string]any{"a": true}},
		"keyId":               keyID,
		"timeToLiveInSeconds": 31536000,
	})
	kf, keys := jwks(t, s)
	claims := jwt.MapClaims{}
	parsed, err := jwt.ParseWithClaims(tok, claims, kf.Keyfunc, jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(c.Now))
	if err != nil || !parsed.Valid {
		t.Fatalf("vended token does not verify with the JWKS: %v", err)
	}
	kid := asString(parsed.Header["kid"])
	if kid == "" || kid == keyID {
		t.Errorf("header kid = %q, want the key's kid, not its id %s", kid, keyID)
	}
	if parsed.Header["typ"] != "JWT" {
		t.Errorf("header typ = %v, want JWT", parsed.Header["typ"])
	}
	var entry map[string]any
	for _, k := range keys {
		if k["kid"] == kid {
			entry = k
		}
	}
	if entry == nil {
		t.Fatalf("kid %q not in JWKS %v", kid, keys)
	}
	der, err := base64.StdEncoding.DecodeString(asString(entry["x5c"].([]any)[0]))
	if err != nil {
		t.Fatalf("x5c: %v", err)
	}
	sum := sha1.Sum(der)
	if want := base64.RawURLEncoding.EncodeToString(sum[:]); kid != want || entry["x5t"] != want {
		t.Errorf("kid = %q, x5t = %v, want both the certificate's SHA-1 thumbprint %q", kid, entry["x5t"], want)
	}
	iat := c.Now().Unix()
	wantClaims := map[string]any{"userId": "u-1", "iat": float64(iat), "exp": float64(iat + 31536000)}
	for name, want := range wantClaims {
		if claims[name] != want {
			t.Errorf("claim %s = %v, want %v", name, claims[name], want)
		}
	}
	if path(claims, "nested.a") != true {
		t.Errorf("claim nested = %v, want copied", claims["nested"])
	}
	if jti := asString(claims["jti"]); len(jti) != 36 {
		t.Errorf("jti = %q, want a UUID", jti)
	}
	for _, absent := range []string{"iss", "aud", "sub"} {
		if _, ok := claims[absent]; ok {
			t.Errorf("claim %s present, want vend to add only iat, exp and jti", absent)
		}
	}
	r := do(t, s, http.MethodGet, "/api/key/"+keyID, k.admin, nil)
	wantStatus(t, r, http.StatusOK)
	if got := path(r.body, "key.kid"); got != kid {
		t.Errorf("GET /api/key kid = %v, want the JWT header kid %q", got, kid)
	}
}

func TestVendDefaultsAndErrors(t *testing.T) {
	s, _ := newServer(t, fatest.Options{})
	k := keysOf(s)
	t.Run("default key is the tenant's HMAC key, never published", func(t *testing.T) {
		tok := vend(t, s, k.admin, map[string]any{"claims": map[string]any{"userId": "u"}})
		hdr, _, _ := strings.Cut(tok, ".")
		raw, err := base64.RawURLEncoding.DecodeString(hdr)
		if err != nil {
			t.Fatal(err)
		}
		var h map[string]any
		_ = json.Unmarshal(raw, &h)
		if h["alg"] != "HS256" {
			t.Errorf("alg = %v, want HS256", h["alg"])
		}
		_, keys := jwks(t, s)
		for _, key := range keys {
			if key["kid"] == h["kid"] {
				t.Errorf("the HMAC key %v is in the JWKS", h["kid"])
			}
		}
	})
	tests := map[string]struct {
		body  map[string]any
		field string
	}{
		"unknown keyId":   {map[string]any{"keyId": "6b1a3a80-0000-4000-8000-000000000000"}, "keyId"},
		"malformed keyId": {map[string]any{"keyId": "nope"}, "keyId"},
		"zero ttl":        {map[string]any{"timeToLiveInSeconds": 0}, "timeToLiveInSeconds"},
		"negative ttl":    {map[string]any{"timeToLiveInSeconds": -5}, "timeToLiveInSeconds"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := do(t, s, http.MethodPost, "/api/jwt/vend", k.admin, tc.body)
			wantStatus(t, r, http.StatusBadRequest)
			if len(fieldCodes(r, tc.field)) == 0 {
				t.Errorf("fieldErrors = %s, want an error on %s", r.raw, tc.field)
			}
		})
	}
}

func TestKeys(t *testing.T) {
	s, _ := newServer(t, fatest.Options{})
	k := keysOf(s)
	t.Run("retrieve never exposes private material", func(t *testing.T) {
		for _, id := range []string{s.Variable("signingKeyId"), s.Variable("FUSIONAUTH_DEFAULT_SIGNING_KEY_ID")} {
			r := do(t, s, http.MethodGet, "/api/key/"+id, k.admin, nil)
			wantStatus(t, r, http.StatusOK)
			key, _ := r.body["key"].(map[string]any)
			for _, secret := range []string{"privateKey", "secret"} {
				if _, ok := key[secret]; ok {
					t.Errorf("key %s has %s", id, secret)
				}
			}
			if strings.Contains(string(r.raw), "PRIVATE KEY") {
				t.Errorf("key %s response contains a private key", id)
			}
		}
		r := do(t, s, http.MethodGet, "/api/key/"+s.Variable("signingKeyId"), k.admin, nil)
		if b, _ := pem.Decode([]byte(asString(path(r.body, "key.publicKey")))); b == nil || b.Type != "PUBLIC KEY" {
			t.Errorf("publicKey = %v, want a PEM public key", path(r.body, "key.publicKey"))
		}
		if path(r.body, "key.type") != "RSA" || path(r.body, "key.length") != float64(2048) {
			t.Errorf("key = %s, want an RSA 2048 key", r.raw)
		}
		wantStatus(t, do(t, s, http.MethodGet, "/api/key/6b1a3a80-0000-4000-8000-000000000000", k.admin, nil), http.StatusNotFound)
	})
	t.Run("EC and HMAC generation are not implemented", func(t *testing.T) {
		for _, alg := range []string{"ES256", "HS256"} {
			r := do(t, s, http.MethodPost, "/api/key/generate", k.admin, map[string]any{"key": map[string]any{"algorithm": alg, "name": alg + " key"}})
			wantStatus(t, r, http.StatusBadRequest)
			if got := generalCodes(r); !slices.Contains(got, "[UnsupportedRequest]") {
				t.Errorf("%s: generalErrors = %v, want [UnsupportedRequest]", alg, got)
			}
		}
	})
	errorCases := map[string]struct {
		path  string
		body  map[string]any
		field string
	}{
		"RSA without a valid length": {"/api/key/generate/6b1a3a80-0000-4000-8000-000000000001", map[string]any{"key": map[string]any{"algorithm": "RS256", "name": "a", "length": 1024}}, "key.length"},
		"unknown algorithm":          {"/api/key/generate/6b1a3a80-0000-4000-8000-000000000002", map[string]any{"key": map[string]any{"algorithm": "XX1", "name": "b"}}, "key.algorithm"},
		"no name":                    {"/api/key/generate/6b1a3a80-0000-4000-8000-000000000003", map[string]any{"key": map[string]any{"algorithm": "RS256", "length": 2048}}, "key.name"},
		"existing id":                {"/api/key/generate/" + s.Variable("signingKeyId"), map[string]any{"key": map[string]any{"algorithm": "RS256", "name": "c", "length": 2048}}, "key.id"},
	}
	for name, tc := range errorCases {
		t.Run(name, func(t *testing.T) {
			r := do(t, s, http.MethodPost, tc.path, k.admin, tc.body)
			wantStatus(t, r, http.StatusBadRequest)
			if len(fieldCodes(r, tc.field)) == 0 {
				t.Errorf("fieldErrors = %s, want an error on %s", r.raw, tc.field)
			}
		})
	}
}

func TestKeyMaterialIsReusedAcrossServers(t *testing.T) {
	start := time.Now()
	a, _ := newServer(t, fatest.Options{})
	b, _ := newServer(t, fatest.Options{})
	ka := do(t, a, http.MethodGet, "/api/key/"+a.Variable("signingKeyId"), keysOf(a).admin, nil)
	kb := do(t, b, http.MethodGet, "/api/key/"+b.Variable("signingKeyId"), keysOf(b).admin, nil)
	if path(ka.body, "key.kid") != path(kb.body, "key.kid") {
		t.Errorf("kid differs between servers (%v, %v): RSA keys are not cached", path(ka.body, "key.kid"), path(kb.body, "key.kid"))
	}
	t.Logf("two servers started in %v", time.Since(start))
}
