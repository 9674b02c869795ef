package contract_test

import (
	"cmp"
	"context"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // x5t is defined as a SHA-1 thumbprint (RFC 7517 §4.8)
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/changebank/anonuser/shared/faclient"
	"github.com/golang-jwt/jwt/v5"
)

// jwk is a published key with the fields faclient.JSONWebKey leaves out.
type jwk struct {
	Alg     string   `json:"alg"`
	Kty     string   `json:"kty"`
	Use     string   `json:"use"`
	KID     string   `json:"kid"`
	N       string   `json:"n"`
	E       string   `json:"e"`
	X5C     []string `json:"x5c"`
	X5T     string   `json:"x5t"`
	X5TS256 string   `json:"x5t#S256"`
}

// TestSigningKeyPublished: the kickstart's RS256 keys are in Key Master under their fixed
// ids with a kid that is not that id, and JWKS publishes them under that kid with their
// certificate, whose SHA-1 thumbprint is x5t (§10.2, §10.4). A generated key's kid is
// that thumbprint; the imported webhook signing key keeps the kid the kickstart gave it
// (webhookSigningKid), so the webhook function can pin it from configuration. Only
// asymmetric keys are published, and no private material is returned.
func TestSigningKeyPublished(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		e := tg.open(t)
		ctx := context.Background()
		wantKID := map[string]string{"webhookSigningKeyId": e.variable(t, "webhookSigningKid")}
		for _, name := range []string{"signingKeyId", "webhookSigningKeyId"} {
			t.Run(name, func(t *testing.T) {
				id := e.variable(t, name)
				key, err := e.admin.RetrieveKey(ctx, id)
				if err != nil {
					t.Fatalf("retrieve key: %v", err)
				}
				if !strings.EqualFold(key.Key.ID, id) || key.Key.Algorithm != "RS256" || key.Key.Type != "RSA" {
					t.Errorf("key = {id %s, algorithm %s, type %s}, want {%s, RS256, RSA}", key.Key.ID, key.Key.Algorithm, key.Key.Type, id)
				}
				if key.Key.KID == "" || strings.EqualFold(key.Key.KID, id) {
					t.Errorf("kid = %q, want a kid different from the key id %s (§10.2)", key.Key.KID, id)
				}
				rawKey, _ := decodeObject(t, e.lastExchange(t, http.MethodGet, "/api/key/").Body)["key"].(map[string]any)
				for _, secret := range []string{"privateKey", "secret"} {
					if _, ok := rawKey[secret]; ok {
						t.Errorf("key response has %q, want private material never returned (§10.4)", secret)
					}
				}
				keys := jwksKeys(t, e)
				k, ok := keys[key.Key.KID]
				if !ok {
					t.Fatalf("JWKS kids = %v, want %q", slices.Sorted(maps.Keys(keys)), key.Key.KID)
				}
				if _, ok := keys[id]; ok {
					t.Errorf("JWKS publishes a key under the key id %s, want it under its kid only", id)
				}
				if k.Kty != "RSA" || k.Alg != "RS256" || k.Use != "sig" {
					t.Errorf("JWK = {kty %s, alg %s, use %s}, want {RSA, RS256, sig}", k.Kty, k.Alg, k.Use)
				}
				pub := rsaKey(t, k)
				if len(k.X5C) == 0 {
					t.Fatalf("JWK has no x5c certificate, want one (§10.2)")
				}
				der, err := base64.StdEncoding.DecodeString(k.X5C[0])
				if err != nil {
					t.Fatalf("x5c[0] is not standard base64: %v", err)
				}
				cert, err := x509.ParseCertificate(der)
				if err != nil {
					t.Fatalf("x5c[0] is not a certificate: %v", err)
				}
				if certKey, ok := cert.PublicKey.(*rsa.PublicKey); !ok || !certKey.Equal(pub) {
					t.Errorf("x5c certificate key differs from n/e")
				}
				sum1 := sha1.Sum(der) //nolint:gosec // thumbprint, not security
				thumb := base64.RawURLEncoding.EncodeToString(sum1[:])
				kid := cmp.Or(wantKID[name], thumb)
				if k.X5T != thumb || k.KID != kid {
					t.Errorf("kid = %q, x5t = %q, want kid %q and x5t the certificate's SHA-1 thumbprint %q (§10.2)", k.KID, k.X5T, kid, thumb)
				}
				sum256 := sha256.Sum256(der)
				if thumb := base64.RawURLEncoding.EncodeToString(sum256[:]); k.X5TS256 != thumb {
					t.Errorf("x5t#S256 = %q, want %q", k.X5TS256, thumb)
				}
			})
		}
		t.Run("only asymmetric keys", func(t *testing.T) {
			for kid, k := range jwksKeys(t, e) {
				if !slices.Contains([]string{"RSA", "EC", "OKP"}, k.Kty) {
					t.Errorf("JWKS key %s has kty %q, want only asymmetric keys (§10.2)", kid, k.Kty)
				}
			}
		})
	})
}

// TestVendJWT: POST /api/jwt/vend signs exactly the given claims plus iat, exp = iat +
// ttl and jti, ignoring a client exp/iat; the header carries alg RS256 and the key's
// kid (not its id); the token verifies with the JWKS key. An unknown key id or a ttl
// that is not positive is 400 (§10.1).
func TestVendJWT(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		tests := map[string]struct {
			claims     map[string]any
			keyID      string // "" = the kickstart's signingKeyId, "unknown" = a random UUID, "default" = none sent
			ttl        int
			wantStatus int
		}{
			"claims and ttl":             {claims: map[string]any{"userId": newUUID(), "visitor": true, "n": 3}, ttl: 600, wantStatus: 200},
			"client exp and iat ignored": {claims: map[string]any{"userId": "u-1", "exp": 1, "iat": 1}, ttl: 31536000, wantStatus: 200},
			"unknown key id":             {claims: map[string]any{"userId": "u-1"}, keyID: "unknown", ttl: 60, wantStatus: http.StatusBadRequest},
			"ttl not positive":           {claims: map[string]any{"userId": "u-1"}, ttl: -5, wantStatus: http.StatusBadRequest},
			"no key id: tenant default":  {claims: map[string]any{"userId": "u-1"}, keyID: "default", ttl: 60, wantStatus: 200},
		}
		for name, tc := range tests {
			t.Run(name, func(t *testing.T) {
				e := tg.open(t)
				ctx := context.Background()
				keyID := e.variable(t, "signingKeyId")
				switch tc.keyID {
				case "unknown":
					keyID = newUUID()
				case "default":
					keyID = ""
				}
				resp, err := e.admin.VendJWT(ctx, faclient.JWTVendRequest{Claims: tc.claims, KeyID: keyID, TimeToLiveInSeconds: tc.ttl})
				if got := statusOf(err); got != tc.wantStatus {
					t.Fatalf("status = %d (%v), want %d", got, err, tc.wantStatus)
				}
				if err != nil {
					return
				}
				token := resp.Token
				if keyID == "" {
					// §10.1: without keyId the tenant's access-token key signs; on a stock
					// tenant (the kickstart leaves it) that is the HMAC "Default signing
					// key", which JWKS never publishes.
					header, _ := decodeJWT(t, token)
					alg, _ := header["alg"].(string)
					kid, _ := header["kid"].(string)
					if !strings.HasPrefix(alg, "HS") {
						t.Errorf("alg = %q, want the HMAC default key (HS256/384/512)", alg)
					}
					if _, published := jwksKeys(t, e)[kid]; published || kid == "" {
						t.Errorf("kid = %q published in JWKS: %v, want an unpublished kid", kid, published)
					}
					return
				}
				key, err := e.admin.RetrieveKey(ctx, keyID)
				if err != nil {
					t.Fatalf("retrieve key: %v", err)
				}
				header, claims := decodeJWT(t, token)
				if header["alg"] != "RS256" || header["typ"] != "JWT" || header["kid"] != key.Key.KID {
					t.Errorf("header = %v, want alg RS256, typ JWT, kid %q (§10.1)", header, key.Key.KID)
				}
				if header["kid"] == keyID {
					t.Errorf("header kid = the key id %s, want the key's kid", keyID)
				}
				wantKeys := []string{"exp", "iat", "jti"}
				for k := range tc.claims {
					if k != "exp" && k != "iat" {
						wantKeys = append(wantKeys, k)
					}
				}
				// FusionAuth adds amr itself since 1.60 (fusionauth-issues #3177, "starting
				// with the Vend API"): the claim is there on both targets, and it is never the
				// caller's (checked in TestVendReservedClaims).
				gotKeys := slices.Sorted(maps.Keys(claims))
				if !slices.Contains(gotKeys, "amr") {
					t.Errorf("claims = %v, want FusionAuth's amr claim (1.60+)", gotKeys)
				}
				gotKeys = slices.DeleteFunc(gotKeys, func(k string) bool { return k == "amr" })
				sort.Strings(wantKeys)
				if !slices.Equal(gotKeys, wantKeys) {
					t.Errorf("claims = %v, want exactly %v (§10.1: no iss/aud/sub added)", gotKeys, wantKeys)
				}
				for k, v := range jsonRoundTrip(t, tc.claims) {
					if k != "exp" && k != "iat" && fmt.Sprint(claims[k]) != fmt.Sprint(v) {
						t.Errorf("claim %s = %v, want %v", k, claims[k], v)
					}
				}
				iat, _ := claims["iat"].(float64)
				exp, _ := claims["exp"].(float64)
				if int(exp-iat) != tc.ttl {
					t.Errorf("exp - iat = %v, want the ttl %d", exp-iat, tc.ttl)
				}
				if now := e.now().Unix(); absDuration(time.Duration(int64(iat)-now)*time.Second) > time.Minute {
					t.Errorf("iat = %v, want about now (%d, epoch seconds)", iat, now)
				}
				if jti, _ := claims["jti"].(string); !validUUID(jti) {
					t.Errorf("jti = %v, want a UUID", claims["jti"])
				}
				verifyWithJWKS(t, e, token)
			})
		}
	})
}

// verifyWithJWKS checks the token's RS256 signature with the JWKS key named by its kid.
func verifyWithJWKS(t testing.TB, e *env, token string) {
	t.Helper()
	keys := jwksKeys(t, e)
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(e.now), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	_, err := parser.Parse(token, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		k, ok := keys[kid]
		if !ok {
			return nil, fmt.Errorf("kid %q not in JWKS", kid)
		}
		return rsaKey(t, k), nil
	})
	if err != nil {
		t.Errorf("verify the vended token with JWKS: %v", err)
	}
	// The signature must really be checked: a token signed by another key fails.
	parts := strings.Split(token, ".")
	if len(parts) == 3 {
		forged := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString([]byte("not-a-signature"))
		if _, err := parser.Parse(forged, func(*jwt.Token) (any, error) { return rsaKey(t, keys[kidOf(t, token)]), nil }); err == nil {
			t.Errorf("a token with a forged signature verified, want an error")
		}
	}
}

// jwksKeys fetches GET /.well-known/jwks.json with the typed client (no key) and
// returns the keys by kid.
func jwksKeys(t testing.TB, e *env) map[string]jwk {
	t.Helper()
	set, err := e.client(t, "").RetrieveJsonWebKeySet(context.Background())
	if err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	var doc struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(set.Raw, &doc); err != nil {
		t.Fatalf("decode JWKS: %v", err)
	}
	keys := map[string]jwk{}
	for _, k := range doc.Keys {
		keys[k.KID] = k
	}
	if len(keys) != len(set.Keys) {
		t.Errorf("JWKS has %d keys but %d distinct kids, want unique kids", len(set.Keys), len(keys))
	}
	return keys
}

// rsaKey builds the RSA public key of a JWK.
func rsaKey(t testing.TB, k jwk) *rsa.PublicKey {
	t.Helper()
	n, err := base64.RawURLEncoding.DecodeString(k.N)
	if err != nil {
		t.Fatalf("JWK n is not base64url: %v", err)
	}
	eb, err := base64.RawURLEncoding.DecodeString(k.E)
	if err != nil {
		t.Fatalf("JWK e is not base64url: %v", err)
	}
	exp := new(big.Int).SetBytes(eb)
	if !exp.IsInt64() || exp.Int64() > 1<<31 {
		t.Fatalf("JWK e = %s, want a small exponent", exp)
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(exp.Int64())}
}

// decodeJWT returns a compact JWS's header and claims, without verifying it.
func decodeJWT(t testing.TB, token string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q has %d parts, want 3", token, len(parts))
	}
	out := make([]map[string]any, 2)
	for i := range out {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatalf("token part %d is not base64url: %v", i, err)
		}
		if err := json.Unmarshal(b, &out[i]); err != nil {
			t.Fatalf("token part %d is not a JSON object: %v", i, err)
		}
	}
	return out[0], out[1]
}

func kidOf(t testing.TB, token string) string {
	t.Helper()
	header, _ := decodeJWT(t, token)
	kid, _ := header["kid"].(string)
	return kid
}
