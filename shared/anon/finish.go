package anon

import (
	"context"
	"errors"

	"github.com/changebank/anonuser/shared/faclient"
)

// CompleteConversion makes a stub user that has just logged in a regular user: its
// random username goes, data.anonymousUser becomes false, data.convertedAt is set and
// the pending-email mark is cleared, in one test-and-set update (Updater), so a visit
// counted at the same moment is neither lost nor undoes it. A repeated delivery of the
// same login event changes nothing. It returns whether this call converted the user. A
// stub without an email is left alone: it would have nothing to log in with once the
// username is gone. A user deleted since its login is nothing to convert, not an error.
// Errors: ErrUnavailable, ErrContended.
func (c *Converter) CompleteConversion(ctx context.Context, userID string) (bool, error) {
	converted := false
	_, err := c.updates.Update(ctx, userID, func(u faclient.User) (Edit, error) {
		converted = false
		if anonymous, _ := u.Data[DataAnonymous].(bool); !anonymous || u.Email == "" {
			return Edit{}, nil
		}
		converted = true
		data := u.Data
		data[DataAnonymous] = false
		data[DataConvertedAt] = c.now().UnixMilli()
		delete(data, DataEmailPending)
		var ops []faclient.PatchOperation
		if u.Username != "" {
			ops = append(ops, faclient.PatchOperation{Op: "remove", Path: "/user/username"})
		}
		return Edit{Data: data, Ops: ops}, nil
	})
	if errors.Is(err, ErrGone) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return converted, nil
}
