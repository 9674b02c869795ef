package token

import (
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/changebank/anonuser/shared/anon"
)

// Claims of the visitor cookie: the same names the FusionAuth-vended cookie had, so a
// reader of either finds userId and purpose.
const (
	ClaimUserID    = "userId"
	ClaimPurpose   = "purpose"
	PurposeVisitor = "anonymous-visitor"
)

// VisitorTTL is how long a visitor cookie, and the JWT in it, lives.
const VisitorTTL = 365 * 24 * time.Hour

// maxVisitorLen bounds what is parsed at all; a visitor token is about 200 bytes.
const maxVisitorLen = 1024

// Visitor signs and verifies visitor cookies with the function-held keys. It is safe
// for concurrent use and does no I/O.
type Visitor struct {
	userTokens // purpose PurposeVisitor, valid for VisitorTTL
}

// NewVisitor returns a Visitor that signs with keys[0] and verifies with any of keys
// (the rules of ParseKeys apply). now is the clock; nil means time.Now.
func NewVisitor(keys []Key, now func() time.Time) (*Visitor, error) {
	return over(keys, now, func(h *hs256) *Visitor { return &Visitor{userTokens{h, PurposeVisitor, VisitorTTL}} })
}

// userTokens signs and verifies the tokens of one purpose that name a user: the
// visitor's and the session's.
type userTokens struct {
	h       *hs256
	purpose string
	ttl     time.Duration
}

// Sign returns a token naming userID, signed with the first key (its kid in the
// header).
func (u userTokens) Sign(userID string) (string, error) {
	return u.h.sign(u.purpose, u.ttl, jwt.MapClaims{ClaimUserID: userID})
}

// Verify checks a token and returns the user id it names. resign is true when a key
// other than the first signed it: the caller should send a token from Sign on this
// visit, so that the old key can be retired. Errors are *Error.
func (u userTokens) Verify(token string) (userID string, resign bool, err error) {
	claims, resign, err := u.h.verify(token, u.purpose, maxVisitorLen)
	if err != nil {
		return "", false, err
	}
	userID, _ = claims[ClaimUserID].(string)
	if !anon.ValidUserID(userID) {
		return "", false, &Error{Reason: "missing or malformed userId"}
	}
	return userID, resign, nil
}
