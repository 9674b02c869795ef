package token_test

import (
	"testing"
	"time"

	"github.com/changebank/anonuser/shared/token"
	"github.com/changebank/anonuser/shared/token/tokentest"
)

// TestCookiesKeepTheirPurposes: the three signers share keys, and none takes another's
// token; bad keys are refused as by each constructor.
func TestCookiesKeepTheirPurposes(t *testing.T) {
	now := time.Unix(1_750_000_000, 0)
	c, err := token.NewCookies([]token.Key{tokentest.Key(t, "k1")}, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	visitor, _ := c.Visitor.Sign(userID)
	session, _ := c.Session.Sign(userID)
	flow, _ := c.SignIn.Sign(token.Flow{State: "s", Nonce: "n", Verifier: "v"})
	if got, _, err := c.Visitor.Verify(visitor); err != nil || got != userID {
		t.Errorf("Visitor.Verify(visitor token) = %q, %v; want %s", got, err, userID)
	}
	if got, _, err := c.Session.Verify(session); err != nil || got != userID {
		t.Errorf("Session.Verify(session token) = %q, %v; want %s", got, err, userID)
	}
	for name, verify := range map[string]func() error{
		"visitor token as a session": func() error { _, _, err := c.Session.Verify(visitor); return err },
		"session token as a visitor": func() error { _, _, err := c.Visitor.Verify(session); return err },
		"flow token as a visitor":    func() error { _, _, err := c.Visitor.Verify(flow); return err },
		"visitor token as a flow":    func() error { _, err := c.SignIn.Verify(visitor); return err },
	} {
		if err := verify(); token.Reason(err) != "missing or wrong purpose" {
			t.Errorf("%s: %v, want refused for its purpose", name, err)
		}
	}
	if _, err := token.NewCookies(nil, nil); err == nil {
		t.Error("NewCookies(no keys): nil error, want refused")
	}
}
