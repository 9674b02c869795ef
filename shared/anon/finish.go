package anon

import (
	"context"
	"fmt"

	"github.com/changebank/anonuser/shared/faclient"
)

// CompleteConversion makes a stub user that has just logged in a regular user: its
// random username goes, data.anonymousUser becomes false, data.convertedAt is set and
// the pending-email mark is cleared. It reads the user first, so a repeated delivery
// of the same login event changes nothing (FusionAuth retries webhooks). It returns
// whether this call converted the user. A stub without an email is left alone: it
// would have nothing to log in with once the username is gone.
func (c *Converter) CompleteConversion(ctx context.Context, userID string) (bool, error) {
	got, err := c.fa.RetrieveUser(ctx, userID)
	if faclient.IsNotFound(err) {
		return false, nil // deleted since it logged in: nothing left to convert, no retry needed
	}
	if err != nil {
		return false, fmt.Errorf("read user %s: %w", userID, err)
	}
	u := got.User
	if anonymous, _ := u.Data[DataAnonymous].(bool); !anonymous || u.Email == "" {
		return false, nil
	}
	_, err = c.fa.PatchUser(ctx, userID, map[string]any{"user": map[string]any{
		"username": nil,
		"data": map[string]any{
			DataAnonymous:    false,
			DataConvertedAt:  c.now().UnixMilli(),
			DataEmailPending: nil,
		},
	}})
	if err != nil {
		return false, fmt.Errorf("convert user %s: %w", userID, err)
	}
	return true, nil
}
