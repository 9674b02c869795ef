// Package cookiekeys reads the visitor cookie's signing keys from their own Secrets
// Manager secret, once per cold start. Only the functions that set or read the cookie
// (video, register) link it, and only they may read that secret (template.yaml).
package cookiekeys

import (
	"context"
	"errors"
	"fmt"

	"github.com/changebank/anonuser/shared/apikey"
	"github.com/changebank/anonuser/shared/app"
	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/secrets"
	"github.com/changebank/anonuser/shared/token"
)

// Load reads the secret secretID: a JSON array of {kid, secret} (token.ParseKeys), signed
// with the first key and verified with any, so a key can be rotated in without logging
// anyone out. A missing secret, or one without a usable key, fails with an error naming
// the secret and never quoting its value.
func Load(ctx context.Context, sm apikey.SecretReader, secretID string) ([]token.Key, error) {
	if secretID == "" {
		return nil, errors.New("cookie keys: empty secret id")
	}
	v, err := sm.GetSecretValue(ctx, secretID)
	switch {
	case errors.Is(err, secrets.ErrNotFound):
		return nil, fmt.Errorf("cookie keys: secret %q not found: %w", secretID, err)
	case err != nil:
		return nil, fmt.Errorf("cookie keys: read secret %q: %w", secretID, err)
	case v.String == nil:
		return nil, fmt.Errorf("cookie keys: secret %q has no SecretString, want a JSON array of {kid, secret}", secretID)
	}
	keys, err := token.ParseKeys([]byte(*v.String))
	if err != nil {
		return nil, fmt.Errorf("secret %q: %w", secretID, err) // err begins "cookie keys:"
	}
	return keys, nil
}

// Fetch starts Load in the background and returns a function that waits for its result:
// a cold start reads this secret while it reads the API key's, one round trip instead of
// two.
func Fetch(ctx context.Context, sm apikey.SecretReader, secretID string) func() ([]token.Key, error) {
	type result struct {
		keys []token.Key
		err  error
	}
	done := make(chan result, 1)
	go func() {
		keys, err := Load(ctx, sm, secretID)
		done <- result{keys, err}
	}()
	return func() ([]token.Key, error) {
		r := <-done
		return r.keys, r.err
	}
}

// WithFusionAuth is app.FusionAuth for a function that also signs cookies: it reads the
// cookie keys from their secret secretID (Load) at the same time as the API key, one
// round trip at cold start instead of two.
func WithFusionAuth(ctx context.Context, cfg config.FusionAuth, secretID string, sm apikey.SecretReader) (*faclient.Client, *apikey.Source, []token.Key, error) {
	cookieKeys := Fetch(ctx, sm, secretID)
	fa, source, err := app.FusionAuth(ctx, cfg, sm)
	if err != nil {
		return nil, nil, nil, err
	}
	keys, err := cookieKeys()
	if err != nil {
		return nil, nil, nil, err
	}
	return fa, source, keys, nil
}
