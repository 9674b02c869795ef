package openid

import (
	"context"
	"crypto/subtle"
	"errors"

	"github.com/coreos/go-oidc/v3/oidc"
)

// keySet is FusionAuth's JWKS as go-oidc fetches and caches it, telling an outage
// apart from a bad signature: go-oidc reports both as "failed to verify signature"
// without wrapping, so the set marks the context's flag when the keys could not be
// fetched. A token that cannot be checked then is 503 "try again", not a forged one.
type keySet struct {
	remote *oidc.RemoteKeySet
}

// outageKey is the context key of the *bool that keySet sets on a fetch failure.
type outageKey struct{}

// VerifySignature implements oidc.KeySet.
func (k *keySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	payload, err := k.remote.VerifySignature(ctx, jwt)
	// RemoteKeySet wraps the fetch failure ("fetching keys %w"); a signature that no
	// key verifies is a plain error with nothing inside.
	if err != nil && errors.Unwrap(err) != nil {
		if flag, ok := ctx.Value(outageKey{}).(*bool); ok {
			*flag = true
		}
	}
	return payload, err
}

var _ oidc.KeySet = (*keySet)(nil)

// equal compares two secrets in constant time.
func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
