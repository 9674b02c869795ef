package apikey

import (
	"context"
	"errors"
)

// Static is a fixed key for the local stack and tests.
type Static string

// APIKey returns the key; an empty Static is an error.
func (k Static) APIKey(context.Context) (string, error) {
	if k == "" {
		return "", errors.New("API key: empty apikey.Static")
	}
	return string(k), nil
}

// RefreshAPIKey returns the same key: there is nothing to re-read, so a caller retrying after
// 401 sees the key equal its stale one and gives up.
func (k Static) RefreshAPIKey(ctx context.Context, _ string) (string, error) {
	return k.APIKey(ctx)
}

// String hides the key, so printing a Static cannot leak it.
func (k Static) String() string { return "apikey.Static(redacted)" }
