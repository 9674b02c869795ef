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
	h *hs256
}

// NewVisitor returns a Visitor that signs with keys[0] and verifies with any of keys
// (the rules of ParseKeys apply). now is the clock; nil means time.Now.
func NewVisitor(keys []Key, now func() time.Time) (*Visitor, error) {
	h, err := newHS256(keys, now)
	if err != nil {
		return nil, err
	}
	return &Visitor{h: h}, nil
}

// Sign returns a visitor token naming userID, signed with the first key (its kid in
// the header), valid for VisitorTTL.
func (v *Visitor) Sign(userID string) (string, error) {
	return v.h.sign(PurposeVisitor, VisitorTTL, jwt.MapClaims{ClaimUserID: userID})
}

// Verify checks a visitor token and returns the user id it names. resign is true when
// a key other than the first signed it: the caller should send the visitor a token
// from Sign on this visit, so that the old key can be retired. Errors are *Error.
func (v *Visitor) Verify(token string) (userID string, resign bool, err error) {
	return verifyUser(v.h, token, PurposeVisitor, maxVisitorLen)
}

// verifyUser verifies a token of purpose that names a user and returns that user.
func verifyUser(h *hs256, token, purpose string, maxLen int) (userID string, resign bool, err error) {
	claims, resign, err := h.verify(token, purpose, maxLen)
	if err != nil {
		return "", false, err
	}
	userID, _ = claims[ClaimUserID].(string)
	if !anon.ValidUserID(userID) {
		return "", false, &Error{Reason: "missing or malformed userId"}
	}
	return userID, resign, nil
}
