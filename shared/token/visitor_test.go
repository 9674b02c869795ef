package token_test

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/changebank/anonuser/shared/token"
	"github.com/changebank/anonuser/shared/token/tokentest"
)

const userID = "6f1c2a4e-8b3d-4e5f-9a7b-1c2d3e4f5a6b"

func TestVisitorSignsWithTheFirstKeyAndVerifies(t *testing.T) {
	now := time.Unix(1_750_000_000, 0)
	k1, k2 := tokentest.Key(t, "k1"), tokentest.Key(t, "k2")
	v := tokentest.Visitor(t, now, k1, k2)
	signed, err := v.Sign(userID)
	if err != nil {
		t.Fatal(err)
	}
	parsed, _, err := jwt.NewParser().ParseUnverified(signed, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	claims := parsed.Claims.(jwt.MapClaims)
	if parsed.Header["alg"] != "HS256" || parsed.Header["kid"] != "k1" {
		t.Errorf("header=%v, want HS256 with kid k1", parsed.Header)
	}
	if claims["userId"] != userID || claims["purpose"] != "anonymous-visitor" ||
		claims["iat"] != float64(now.Unix()) || claims["exp"] != float64(now.Add(365*24*time.Hour).Unix()) {
		t.Errorf("claims=%v, want userId, purpose, iat now and exp in one year", claims)
	}
	got, resign, err := v.Verify(signed)
	if err != nil || got != userID || resign {
		t.Errorf("Verify=%q, %v, %v; want %s, no re-sign", got, resign, err, userID)
	}
}

// TestVisitorRotation: a cookie signed with the second key still verifies and asks to be
// re-signed with the first; a cookie whose key was dropped from the list is refused.
func TestVisitorRotation(t *testing.T) {
	now := time.Unix(1_750_000_000, 0)
	oldKey, newKey, droppedKey := tokentest.Key(t, "2025-01"), tokentest.Key(t, "2025-06"), tokentest.Key(t, "2024-06")
	before := tokentest.Visitor(t, now, oldKey, droppedKey) // the list before the rotation
	after := tokentest.Visitor(t, now, newKey, oldKey)      // new key in front, the oldest dropped

	byOld, _ := before.Sign(userID)
	got, resign, err := after.Verify(byOld)
	if err != nil || got != userID || !resign {
		t.Fatalf("cookie signed with the second key: %q, resign=%v, %v; want accepted and re-sign", got, resign, err)
	}
	fresh, _ := after.Sign(got)
	if _, resign, err := after.Verify(fresh); err != nil || resign {
		t.Errorf("re-signed cookie: resign=%v, %v; want accepted as current", resign, err)
	}

	byDropped := tokentest.Sign(t, jwt.SigningMethodHS256, droppedKey.Secret, droppedKey.ID, tokentest.Claims(userID, now, nil))
	if _, _, err := after.Verify(byDropped); token.Reason(err) != "unknown kid" {
		t.Errorf("cookie signed with a dropped key: err=%v, want refused as unknown kid", err)
	}
}

// TestVisitorRefusesForgeries is the forged-cookie table: each token is refused with a
// reason a log can carry, and the reason never holds the token.
func TestVisitorRefusesForgeries(t *testing.T) {
	now := time.Unix(1_750_000_000, 0)
	key := tokentest.Key(t, "k1")
	v := tokentest.Visitor(t, now, key)
	refusesForgeries(t, now, key, token.PurposeVisitor, v.Sign, v.Verify)
}

// refusesForgeries runs the forged-token table against a signer and verifier of
// user-naming tokens of purpose, all keyed with key at now.
func refusesForgeries(t *testing.T, now time.Time, key token.Key, purpose string,
	sign func(string) (string, error), verify func(string) (string, bool, error)) {
	t.Helper()
	rsaKey := tokentest.RSAKey(t)
	valid, _ := sign(userID)
	claims := func(extra map[string]any) map[string]any {
		c := tokentest.Claims(userID, now, map[string]any{"purpose": purpose})
		for k, v := range extra {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	hs := func(secret []byte, kid string, c map[string]any) string {
		return tokentest.Sign(t, jwt.SigningMethodHS256, secret, kid, c)
	}
	other := token.PurposeSession
	if purpose == token.PurposeSession {
		other = token.PurposeVisitor
	}
	cases := map[string]struct {
		token, reason string
	}{
		"garbage":                         {"hello-world", "malformed"},
		"empty":                           {"", "malformed"},
		"too long":                        {valid + strings.Repeat("A", 1024), "too long"},
		"alg none":                        {tokentest.Unsigned(t, "k1", claims(nil)), "bad signature or algorithm"},
		"HS256 keyed with a public key":   {hs(tokentest.PublicPEM(t, rsaKey), "k1", claims(nil)), "bad signature or algorithm"},
		"HS256 keyed with another secret": {hs(tokentest.Key(t, "x").Secret, "k1", claims(nil)), "bad signature or algorithm"},
		"RS256 with any key":              {tokentest.Sign(t, jwt.SigningMethodRS256, rsaKey, "k1", claims(nil)), "bad signature or algorithm"},
		"HS512 with the right secret":     {tokentest.Sign(t, jwt.SigningMethodHS512, key.Secret, "k1", claims(nil)), "bad signature or algorithm"},
		"HS256 with an unknown kid":       {hs(key.Secret, "k2", claims(nil)), "unknown kid"},
		"HS256 without a kid":             {hs(key.Secret, "", claims(nil)), "no kid"},
		"expired":                         {hs(key.Secret, "k1", claims(map[string]any{"iat": now.Add(-2 * time.Hour).Unix(), "exp": now.Add(-time.Hour).Unix()})), "expired"},
		"no exp":                          {hs(key.Secret, "k1", claims(map[string]any{"exp": nil})), "required claim missing"},
		"issued in the future":            {hs(key.Secret, "k1", claims(map[string]any{"iat": now.Add(time.Hour).Unix()})), "not valid yet"},
		"payload altered":                 {tokentest.AlterPayload(t, valid, claims(map[string]any{"userId": "00000000-0000-0000-0000-000000000001"})), "bad signature or algorithm"},
		"missing purpose":                 {hs(key.Secret, "k1", claims(map[string]any{"purpose": nil})), "missing or wrong purpose"},
		"wrong purpose":                   {hs(key.Secret, "k1", claims(map[string]any{"purpose": "session"})), "missing or wrong purpose"},
		"the other cookie's purpose":      {hs(key.Secret, "k1", claims(map[string]any{"purpose": other})), "missing or wrong purpose"},
		"sign-in flow purpose":            {hs(key.Secret, "k1", claims(map[string]any{"purpose": token.PurposeSignIn})), "missing or wrong purpose"},
		"missing userId":                  {hs(key.Secret, "k1", claims(map[string]any{"userId": nil})), "missing or malformed userId"},
		"userId not a UUID":               {hs(key.Secret, "k1", claims(map[string]any{"userId": "../../api/user"})), "missing or malformed userId"},
		"userId a number":                 {hs(key.Secret, "k1", claims(map[string]any{"userId": 42})), "missing or malformed userId"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, _, err := verify(tc.token)
			if err == nil {
				t.Fatalf("accepted, naming %q", got)
			}
			if r := token.Reason(err); r != tc.reason {
				t.Errorf("reason=%q, want %q (err %v)", r, tc.reason, err)
			}
			if tc.token != "" && strings.Contains(err.Error(), tc.token) {
				t.Error("the error holds the token")
			}
		})
	}
}

func TestNewVisitorRefusesBadKeys(t *testing.T) {
	short := token.Key{ID: "a", Secret: make([]byte, 31)}
	for name, keys := range map[string][]token.Key{"none": nil, "short secret": {short}} {
		if _, err := token.NewVisitor(keys, nil); err == nil {
			t.Errorf("%s: NewVisitor accepted it", name)
		}
	}
}

// TestVisitorToleratesHalfAMinuteOfClockSkew: the functions' clocks may disagree by a few
// seconds, so a cookie just past its exp or issued just "in the future" is still taken,
// and one beyond 30 seconds either way is refused.
func TestVisitorToleratesHalfAMinuteOfClockSkew(t *testing.T) {
	now := time.Unix(1_750_000_000, 0)
	key := tokentest.Key(t, "k1")
	v := tokentest.Visitor(t, now, key)
	at := func(iat, exp time.Duration) string {
		return tokentest.Sign(t, jwt.SigningMethodHS256, key.Secret, "k1",
			tokentest.Claims(userID, now, map[string]any{"iat": now.Add(iat).Unix(), "exp": now.Add(exp).Unix()}))
	}
	cases := map[string]struct {
		token, reason string // reason "" = accepted
	}{
		"expired 29 s ago":          {at(-time.Hour, -29*time.Second), ""},
		"expired 31 s ago":          {at(-time.Hour, -31*time.Second), "expired"},
		"issued 29 s in the future": {at(29*time.Second, time.Hour), ""},
		"issued 31 s in the future": {at(31*time.Second, time.Hour), "not valid yet"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, _, err := v.Verify(tc.token)
			if tc.reason == "" {
				if err != nil || got != userID {
					t.Errorf("Verify=%q, %v; want accepted", got, err)
				}
				return
			}
			if r := token.Reason(err); err == nil || r != tc.reason {
				t.Errorf("err=%v (reason %q), want refused as %q", err, r, tc.reason)
			}
		})
	}
}

// TestVisitorLengthLimit: a token of exactly 1024 bytes is still read; one byte more is
// refused before it is parsed.
func TestVisitorLengthLimit(t *testing.T) {
	now := time.Unix(1_750_000_000, 0)
	key := tokentest.Key(t, "k1")
	v := tokentest.Visitor(t, now, key)
	claims := tokentest.Claims(userID, now, nil)
	atLimit := signedOfLength(t, 1024, jwt.SigningMethodHS256, key.Secret, "k1", claims)
	if got, _, err := v.Verify(atLimit); err != nil || got != userID {
		t.Errorf("1024-byte token: Verify=%q, %v; want accepted", got, err)
	}
	over := signedOfLength(t, 1025, jwt.SigningMethodHS256, key.Secret, "k1", claims)
	if _, _, err := v.Verify(over); token.Reason(err) != "too long" {
		t.Errorf("1025-byte token: err=%v, want refused as too long", err)
	}
}

// signedOfLength signs claims into a token of exactly n bytes, padding the claims and,
// where base64's lengths need it, the header with a field nobody reads.
func signedOfLength(t *testing.T, n int, method jwt.SigningMethod, key any, kid string, claims map[string]any) string {
	t.Helper()
	build := func(headerPad, claimPad int) *jwt.Token {
		c := maps.Clone(claims)
		c["pad"] = strings.Repeat("p", claimPad)
		tok := jwt.NewWithClaims(method, jwt.MapClaims(c))
		tok.Header["kid"] = kid
		tok.Header["pad"] = strings.Repeat("h", headerPad)
		return tok
	}
	signed, err := build(0, 0).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	unsigned, _ := build(0, 0).SigningString()
	sigLen := len(signed) - len(unsigned) // the dot and the signature: fixed for a method and key
	for headerPad := range 3 {
		for claimPad := 0; ; claimPad++ {
			unsigned, err := build(headerPad, claimPad).SigningString()
			if err != nil {
				t.Fatal(err)
			}
			if len(unsigned)+sigLen > n {
				break
			}
			if len(unsigned)+sigLen == n {
				s, err := build(headerPad, claimPad).SignedString(key)
				if err != nil || len(s) != n {
					t.Fatalf("signed %d bytes (%v), want %d", len(s), err, n)
				}
				return s
			}
		}
	}
	t.Fatalf("no padding gives a %d-byte token", n)
	return ""
}
