package token_test

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/changebank/anonuser/shared/token"
	"github.com/changebank/anonuser/shared/token/tokentest"
)

func newSession(t *testing.T, now time.Time, keys ...token.Key) *token.Session {
	t.Helper()
	s, err := token.NewSession(keys, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSessionClaimsAndRotation(t *testing.T) {
	now := time.Unix(1_750_000_000, 0)
	k1, k2 := tokentest.Key(t, "k1"), tokentest.Key(t, "k2")
	s := newSession(t, now, k1, k2)
	signed, err := s.Sign(userID)
	if err != nil {
		t.Fatal(err)
	}
	parsed, _, err := jwt.NewParser().ParseUnverified(signed, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	claims := parsed.Claims.(jwt.MapClaims)
	if parsed.Header["kid"] != "k1" || claims["purpose"] != token.PurposeSession || claims["userId"] != userID ||
		claims["exp"] != float64(now.Add(token.SessionTTL).Unix()) || len(claims) != 4 {
		t.Errorf("header %v claims %v, want kid k1 and exactly userId, purpose %q, iat and exp in %s", parsed.Header, claims, token.PurposeSession, token.SessionTTL)
	}
	if got, resign, err := s.Verify(signed); err != nil || got != userID || resign {
		t.Errorf("Verify=%q, %v, %v; want %s, no re-sign", got, resign, err, userID)
	}
	byOld, _ := newSession(t, now, k2).Sign(userID)
	if got, resign, err := s.Verify(byOld); err != nil || got != userID || !resign {
		t.Errorf("session signed with the second key: %q, resign=%v, %v; want accepted and re-sign", got, resign, err)
	}
	if _, _, err := newSession(t, now.Add(token.SessionTTL+time.Minute), k1).Verify(signed); token.Reason(err) != "expired" {
		t.Errorf("session after its lifetime: %v, want refused as expired", err)
	}
}

// TestSessionAndVisitorAreNotInterchangeable: an anonymous visitor's cookie, which
// anyone who once held the device may keep, never passes for a signed-in session, and
// a session never for a visitor.
func TestSessionAndVisitorAreNotInterchangeable(t *testing.T) {
	now := time.Unix(1_750_000_000, 0)
	key := tokentest.Key(t, "k1")
	visitor := tokentest.Visitor(t, now, key)
	session := newSession(t, now, key)
	asVisitor := visitor.MustSign(t, userID)
	asSession, _ := session.Sign(userID)
	if _, _, err := session.Verify(asVisitor); token.Reason(err) != "missing or wrong purpose" {
		t.Errorf("visitor token as a session: %v, want refused for its purpose", err)
	}
	if _, _, err := visitor.Verify(asSession); token.Reason(err) != "missing or wrong purpose" {
		t.Errorf("session token as a visitor: %v, want refused for its purpose", err)
	}
}

func TestSessionRefusesForgeries(t *testing.T) {
	now := time.Unix(1_750_000_000, 0)
	key := tokentest.Key(t, "k1")
	s := newSession(t, now, key)
	refusesForgeries(t, now, key, token.PurposeSession, s.Sign, s.Verify)
}

func TestSignInFlow(t *testing.T) {
	now := time.Unix(1_750_000_000, 0)
	key := tokentest.Key(t, "k1")
	newFlow := func(at time.Time) *token.SignIn {
		s, err := token.NewSignIn([]token.Key{key}, func() time.Time { return at })
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	f := token.Flow{State: "state-value", Nonce: "nonce-value", Verifier: "verifier-value"}
	signed, err := newFlow(now).Sign(f)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := newFlow(now.Add(token.SignInTTL - time.Minute)).Verify(signed); err != nil || got != f {
		t.Errorf("Verify=%+v, %v; want %+v", got, err, f)
	}
	if _, err := newFlow(now.Add(token.SignInTTL + time.Minute)).Verify(signed); token.Reason(err) != "expired" {
		t.Errorf("flow after %s: %v, want refused as expired", token.SignInTTL, err)
	}
	hs := func(claims map[string]any) string {
		return tokentest.Sign(t, jwt.SigningMethodHS256, key.Secret, key.ID, claims)
	}
	base := map[string]any{"purpose": token.PurposeSignIn, "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
		"state": "s", "nonce": "n", "verifier": "v"}
	without := func(name string) map[string]any {
		c := map[string]any{}
		for k, v := range base {
			if k != name {
				c[k] = v
			}
		}
		return c
	}
	cases := map[string]struct{ token, reason string }{
		"no state":       {hs(without("state")), "missing flow values"},
		"no nonce":       {hs(without("nonce")), "missing flow values"},
		"no verifier":    {hs(without("verifier")), "missing flow values"},
		"visitor cookie": {tokentest.Visitor(t, now, key).MustSign(t, userID), "missing or wrong purpose"},
		"other key":      {tokentest.Sign(t, jwt.SigningMethodHS256, tokentest.Key(t, "k1").Secret, "k1", base), "bad signature or algorithm"},
	}
	for name, tc := range cases {
		if got, err := newFlow(now).Verify(tc.token); token.Reason(err) != tc.reason {
			t.Errorf("%s: %+v, %v; want refused as %q", name, got, err, tc.reason)
		}
	}
}
