package token

import "time"

// Cookies are the signers of the site's three cookies over one set of keys: the
// visitor's, the session's and the sign-in flow's. Each has its own purpose, so none
// passes for another.
type Cookies struct {
	Visitor *Visitor
	Session *Session
	SignIn  *SignIn
}

// NewCookies returns the cookies' signers over keys: each signs with keys[0] and
// verifies with any of keys (the rules of ParseKeys apply). now is the clock; nil means
// time.Now.
func NewCookies(keys []Key, now func() time.Time) (Cookies, error) {
	h, err := newHS256(keys, now)
	if err != nil {
		return Cookies{}, err
	}
	return Cookies{
		Visitor: &Visitor{userTokens{h, PurposeVisitor, VisitorTTL}},
		Session: &Session{userTokens{h, PurposeSession, SessionTTL}},
		SignIn:  &SignIn{h: h},
	}, nil
}
