// Package tokentest builds keys and forged tokens for tests: the one place where tests
// of every package make JWTs that the product must refuse (alg none, the wrong
// algorithm, another key, an altered payload), so each attack is written once.
package tokentest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/changebank/anonuser/shared/token"
)

// Key returns a cookie key with kid and 32 random bytes.
func Key(tb testing.TB, kid string) token.Key {
	tb.Helper()
	secret := make([]byte, token.MinSecretLen)
	if _, err := rand.Read(secret); err != nil {
		tb.Fatal(err)
	}
	return token.Key{ID: kid, Secret: secret}
}

// KeysJSON returns keys as the JSON token.ParseKeys reads (and Secrets Manager holds).
func KeysJSON(tb testing.TB, keys ...token.Key) string {
	tb.Helper()
	b, err := json.Marshal(keys)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// Signer is a visitor token signer for tests.
type Signer struct{ *token.Visitor }

// Visitor returns a visitor token signer over keys with a clock fixed at now: with keys
// no longer (or not yet) listed, or a clock in the past, it makes the tokens of a
// rotation or an expiry.
func Visitor(tb testing.TB, now time.Time, keys ...token.Key) Signer {
	tb.Helper()
	v, err := token.NewVisitor(keys, func() time.Time { return now })
	if err != nil {
		tb.Fatal(err)
	}
	return Signer{v}
}

// MustSign signs a visitor token for userID or fails the test.
func (s Signer) MustSign(tb testing.TB, userID string) string {
	tb.Helper()
	v, err := s.Sign(userID)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// Claims returns visitor claims for userID issued now and valid for an hour, with
// extra merged over them (a nil value deletes the claim).
func Claims(userID string, now time.Time, extra map[string]any) map[string]any {
	c := map[string]any{
		token.ClaimUserID:  userID,
		token.ClaimPurpose: token.PurposeVisitor,
		"iat":              now.Unix(),
		"exp":              now.Add(time.Hour).Unix(),
	}
	maps.Copy(c, extra)
	maps.DeleteFunc(c, func(_ string, v any) bool { return v == nil })
	return c
}

// Sign signs claims with method and key, with kid in the header ("" for none).
func Sign(tb testing.TB, method jwt.SigningMethod, key any, kid string, claims map[string]any) string {
	tb.Helper()
	t := jwt.NewWithClaims(method, jwt.MapClaims(claims))
	if kid != "" {
		t.Header["kid"] = kid
	}
	s, err := t.SignedString(key)
	if err != nil {
		tb.Fatalf("sign %s token: %v", method.Alg(), err)
	}
	return s
}

// Unsigned returns an alg "none" token with kid in the header.
func Unsigned(tb testing.TB, kid string, claims map[string]any) string {
	tb.Helper()
	return Sign(tb, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, kid, claims)
}

// RSAKey returns a fresh 2048-bit RSA key.
func RSAKey(tb testing.TB) *rsa.PrivateKey {
	tb.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// PublicPEM returns the PEM of k's public key, as anyone can read it from a JWKS: the
// secret of the classic algorithm-confusion forgery (HS256 keyed with a public key).
func PublicPEM(tb testing.TB, k *rsa.PrivateKey) []byte {
	tb.Helper()
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// AlterPayload swaps the payload of a signed token for claims, keeping its header and
// signature.
func AlterPayload(tb testing.TB, signed string, claims map[string]any) string {
	tb.Helper()
	parts := strings.Split(signed, ".")
	if len(parts) != 3 {
		tb.Fatalf("token has %d parts, want 3", len(parts))
	}
	b, err := json.Marshal(claims)
	if err != nil {
		tb.Fatal(err)
	}
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + parts[2]
}
