package token

import (
	"fmt"
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
	signing Key
	secrets map[string][]byte // kid -> secret, every listed key
	parser  *jwt.Parser
	now     func() time.Time
}

// NewVisitor returns a Visitor that signs with keys[0] and verifies with any of keys
// (the rules of ParseKeys apply). now is the clock; nil means time.Now.
func NewVisitor(keys []Key, now func() time.Time) (*Visitor, error) {
	if err := checkKeys(keys); err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	secrets := make(map[string][]byte, len(keys))
	for _, k := range keys {
		secrets[k.ID] = k.Secret
	}
	return &Visitor{
		signing: keys[0],
		secrets: secrets,
		now:     now,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(30*time.Second),
			jwt.WithTimeFunc(now),
		),
	}, nil
}

// Sign returns a visitor token naming userID, signed with the first key (its kid in
// the header), valid for VisitorTTL.
func (v *Visitor) Sign(userID string) (string, error) {
	now := v.now()
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		ClaimUserID:  userID,
		ClaimPurpose: PurposeVisitor,
		"iat":        now.Unix(),
		"exp":        now.Add(VisitorTTL).Unix(),
	})
	t.Header["kid"] = v.signing.ID
	s, err := t.SignedString(v.signing.Secret)
	if err != nil {
		return "", fmt.Errorf("sign visitor token: %w", err)
	}
	return s, nil
}

// Verify checks a visitor token and returns the user id it names. resign is true when
// a key other than the first signed it: the caller should send the visitor a token
// from Sign on this visit, so that the old key can be retired. Errors are *Error.
func (v *Visitor) Verify(token string) (userID string, resign bool, err error) {
	if len(token) > maxVisitorLen {
		return "", false, &Error{Reason: "too long"}
	}
	var kid string
	claims := jwt.MapClaims{}
	_, err = v.parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		// The kid picks the key before anything is verified, and only a listed key:
		// the header is attacker-controlled, so it selects, it never supplies.
		k, ok := t.Header["kid"].(string)
		if !ok || k == "" {
			return nil, errNoKID
		}
		secret, ok := v.secrets[k]
		if !ok {
			return nil, errUnknownKID
		}
		kid = k
		return secret, nil
	})
	if err != nil {
		return "", false, refused(err)
	}
	if p, _ := claims[ClaimPurpose].(string); p != PurposeVisitor {
		return "", false, &Error{Reason: "missing or wrong purpose"}
	}
	userID, _ = claims[ClaimUserID].(string)
	if !anon.ValidUserID(userID) {
		return "", false, &Error{Reason: "missing or malformed userId"}
	}
	return userID, kid != v.signing.ID, nil
}
