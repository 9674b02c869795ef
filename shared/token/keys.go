package token

import (
	"encoding/json"
	"errors"
	"fmt"
)

// MinSecretLen is the least length of a cookie key's secret: RFC 7518 section 3.2
// requires an HS256 key of at least the hash size, 256 bits.
const MinSecretLen = 32

// Key is one cookie signing key as Secrets Manager holds it:
// {"kid": "2025-06", "secret": "<standard base64 of at least 32 random bytes>"}.
type Key struct {
	ID     string `json:"kid"`
	Secret []byte `json:"secret"`
}

// String names the key but never prints its secret.
func (k Key) String() string { return fmt.Sprintf("token.Key(kid %q)", k.ID) }

// ParseKeys reads a JSON array of keys, the newest first: the first signs, every one
// verifies, so a new key is added in front and an old one dropped once the cookies it
// signed have been re-signed or expired. It refuses an empty list, an empty or repeated
// kid and any secret shorter than MinSecretLen, naming which; errors never hold a secret.
func ParseKeys(data []byte) ([]Key, error) {
	var keys []Key
	if err := json.Unmarshal(data, &keys); err != nil {
		// The decoder's message may quote input; say only where it broke.
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syntax):
			return nil, fmt.Errorf("cookie keys: not a JSON array of {kid, secret} (syntax error at byte %d)", syntax.Offset)
		case errors.As(err, &typ):
			return nil, fmt.Errorf("cookie keys: not a JSON array of {kid, secret} (%s has the wrong type; secret is standard base64)", typ.Field)
		}
		return nil, errors.New("cookie keys: not a JSON array of {kid, secret} (secret is standard base64)")
	}
	if err := checkKeys(keys); err != nil {
		return nil, err
	}
	return keys, nil
}

// checkKeys applies ParseKeys' rules to keys built in code.
func checkKeys(keys []Key) error {
	if len(keys) == 0 {
		return errors.New("cookie keys: the list is empty, want at least one {kid, secret}")
	}
	seen := make(map[string]bool, len(keys))
	for i, k := range keys {
		switch {
		case k.ID == "":
			return fmt.Errorf("cookie keys: key %d has an empty kid", i)
		case seen[k.ID]:
			return fmt.Errorf("cookie keys: kid %q is listed twice", k.ID)
		case len(k.Secret) < MinSecretLen:
			return fmt.Errorf("cookie keys: kid %q has a %d-byte secret, want at least %d random bytes", k.ID, len(k.Secret), MinSecretLen)
		}
		seen[k.ID] = true
	}
	return nil
}
