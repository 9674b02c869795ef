package token

import (
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// hs256 is what every token the functions sign themselves shares: HS256 with the
// function-held keys (sign with the first, verify with any listed kid), a purpose claim
// that keeps one kind of token from being taken for another, iat and exp. Visitor,
// Session and SignIn differ only in purpose, lifetime and their own claims.
type hs256 struct {
	signing Key
	secrets map[string][]byte // kid -> secret, every listed key
	parser  *jwt.Parser
	now     func() time.Time
}

// over returns the token type T that wrap makes of the signer over keys (newHS256), or
// the keys' problem.
func over[T any](keys []Key, now func() time.Time, wrap func(*hs256) *T) (*T, error) {
	h, err := newHS256(keys, now)
	if err != nil {
		return nil, err
	}
	return wrap(h), nil
}

// newHS256 checks keys (the rules of ParseKeys) and returns the signer over them. now is
// the clock; nil means time.Now.
func newHS256(keys []Key, now func() time.Time) (*hs256, error) {
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
	return &hs256{
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

// sign returns a token of purpose carrying claims, issued now and valid for ttl, signed
// with the first key (its kid in the header).
func (h *hs256) sign(purpose string, ttl time.Duration, claims jwt.MapClaims) (string, error) {
	now := h.now()
	all := jwt.MapClaims{ClaimPurpose: purpose, "iat": now.Unix(), "exp": now.Add(ttl).Unix()}
	for k, v := range claims {
		all[k] = v
	}
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, all)
	t.Header["kid"] = h.signing.ID
	s, err := t.SignedString(h.signing.Secret)
	if err != nil {
		return "", fmt.Errorf("sign %s token: %w", purpose, err)
	}
	return s, nil
}

// verify checks a token of purpose no longer than maxLen and returns its claims. resign
// is true when a key other than the first signed it. Errors are *Error.
func (h *hs256) verify(token, purpose string, maxLen int) (claims jwt.MapClaims, resign bool, err error) {
	if len(token) > maxLen {
		return nil, false, &Error{Reason: "too long"}
	}
	var kid string
	claims = jwt.MapClaims{}
	_, err = h.parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		// The kid picks the key before anything is verified, and only a listed key:
		// the header is attacker-controlled, so it selects, it never supplies.
		k, ok := t.Header["kid"].(string)
		if !ok || k == "" {
			return nil, errNoKID
		}
		secret, ok := h.secrets[k]
		if !ok {
			return nil, errUnknownKID
		}
		kid = k
		return secret, nil
	})
	if err != nil {
		return nil, false, refused(err)
	}
	if p, _ := claims[ClaimPurpose].(string); p != purpose {
		return nil, false, &Error{Reason: "missing or wrong purpose"}
	}
	return claims, kid != h.signing.ID, nil
}
