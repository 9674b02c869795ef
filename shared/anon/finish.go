package anon

import (
	"context"
	"errors"
)

// CompleteConversion makes a stub user that has just logged in a regular user: its
// random username goes, data.anonymousUser becomes false, data.convertedAt is set and
// the pending-email mark is cleared. It reads the user first, so a repeated delivery
// of the same login event changes nothing. It returns whether this call converted the
// user. A stub without an email is left alone: it would have nothing to log in with
// once the username is gone. A user deleted since its login is nothing to convert, not
// an error. Errors: ErrUnavailable.
func (c *Converter) CompleteConversion(ctx context.Context, userID string) (bool, error) {
	got, err := c.fa.RetrieveUser(ctx, userID)
	if err = fusionAuthError(err, "read user "+userID); errors.Is(err, ErrGone) {
		return false, nil
	}
	if err != nil {
		return false, err
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
		return false, fusionAuthError(err, "convert user "+userID)
	}
	return true, nil
}
