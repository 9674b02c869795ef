package token

import (
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// PurposeSignIn is the purpose claim of the short-lived cookie that carries a sign-in
// from GET /login to GET /callback.
const PurposeSignIn = "sign-in-flow"

// SignInTTL is how long a person may take on FusionAuth's login page before the
// callback refuses the flow and asks them to start again.
const SignInTTL = 15 * time.Minute

// maxSignInLen bounds what is parsed: three random values of about 43 characters each
// make a token of about 400 bytes.
const maxSignInLen = 1024

// Flow is what /login keeps for /callback: the OAuth state (bound to this browser), the
// OpenID Connect nonce (bound to the ID token) and the PKCE code verifier.
type Flow struct {
	State    string
	Nonce    string
	Verifier string
}

// SignIn signs and verifies the sign-in flow cookie. The flow is signed, not
// encrypted: the cookie is HttpOnly and lives minutes, and the verifier alone redeems
// nothing without the client secret. Safe for concurrent use; no I/O.
type SignIn struct {
	h *hs256
}

// NewSignIn returns a SignIn over keys (the rules of ParseKeys apply). now is the
// clock; nil means time.Now.
func NewSignIn(keys []Key, now func() time.Time) (*SignIn, error) {
	return over(keys, now, func(h *hs256) *SignIn { return &SignIn{h: h} })
}

// Sign returns a flow token valid for SignInTTL.
func (s *SignIn) Sign(f Flow) (string, error) {
	return s.h.sign(PurposeSignIn, SignInTTL, jwt.MapClaims{"state": f.State, "nonce": f.Nonce, "verifier": f.Verifier})
}

// Verify checks a flow token and returns the flow; a token missing any of the three
// values is refused. Errors are *Error.
func (s *SignIn) Verify(token string) (Flow, error) {
	claims, _, err := s.h.verify(token, PurposeSignIn, maxSignInLen)
	if err != nil {
		return Flow{}, err
	}
	var f Flow
	f.State, _ = claims["state"].(string)
	f.Nonce, _ = claims["nonce"].(string)
	f.Verifier, _ = claims["verifier"].(string)
	if f.State == "" || f.Nonce == "" || f.Verifier == "" {
		return Flow{}, &Error{Reason: "missing flow values"}
	}
	return f, nil
}
