package token

import "time"

// PurposeSession is the purpose claim of a signed-in session: a visitor token (purpose
// anonymous-visitor) is never taken for one, nor the other way round.
const PurposeSession = "signed-in-session"

// SessionTTL is how long a session lasts after sign-in. The session is stateless (a
// signed user id and expiry, no FusionAuth token), so logging out ends it on the device
// that logs out; a copy taken before lives until it expires.
const SessionTTL = 30 * 24 * time.Hour

// Session signs and verifies the session cookie of a person who signed in through
// FusionAuth: their user id and an expiry, with the same function-held keys as the
// visitor cookie. It is safe for concurrent use and does no I/O.
type Session struct {
	userTokens // purpose PurposeSession, valid for SessionTTL
}

// NewSession returns a Session that signs with keys[0] and verifies with any of keys
// (the rules of ParseKeys apply). now is the clock; nil means time.Now.
func NewSession(keys []Key, now func() time.Time) (*Session, error) {
	return over(keys, now, func(h *hs256) *Session { return &Session{userTokens{h, PurposeSession, SessionTTL}} })
}
