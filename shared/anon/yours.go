package anon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// A visitor's own data: what the site recorded about them, to read, take or erase. A
// visitor's profile is personal data (GDPR arts. 15, 17 and 20) whether or not they
// ever gave an email.

// Export returns what FusionAuth holds of the user userID, as its JSON object, minus what is secret: a
// stub's username is the random credential of an account nobody can log in to, so it
// is dropped; FusionAuth never returns a password. One FusionAuth call. With account
// false, a user that is no longer anonymous is refused (the visitor cookie reaches only
// stubs). Errors: ErrGone, ErrNotAnonymous, ErrUnavailable.
func (a *Accounts) Export(ctx context.Context, userID string, account bool) (map[string]any, error) {
	u, err := readActive(ctx, a.fa, userID)
	if err != nil {
		return nil, err
	}
	anonymous, _ := u.Data[DataAnonymous].(bool)
	if !account && !anonymous {
		return nil, ErrNotAnonymous
	}
	u.Password = ""
	if anonymous {
		u.Username = ""
	}
	b, err := json.Marshal(u)
	if err != nil {
		return nil, fmt.Errorf("export user %s: %w", userID, err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("export user %s: %w", userID, err)
	}
	return out, nil
}

// Forget deletes the user userID for good, under its lease, so that no visit or merge
// writes it back: an anonymous profile by its cookie, or, with account true, a signed-in
// person's account. A user already gone is forgotten already (nil): a replay is a no-op.
// Two FusionAuth calls (read, delete). With account false, a user that is no longer
// anonymous is refused (ErrNotAnonymous): the visitor cookie cannot delete an account.
// It reports whether it deleted anything. Errors: ErrNotAnonymous, ErrUnavailable.
func (a *Accounts) Forget(ctx context.Context, userID string, account bool) (bool, error) {
	deleted := false
	err := a.updates.Exclusive(ctx, userID, func(ctx context.Context) error {
		u, err := readActive(ctx, a.fa, userID)
		if errors.Is(err, ErrGone) {
			return nil
		}
		if err != nil {
			return err
		}
		if anonymous, _ := u.Data[DataAnonymous].(bool); !account && !anonymous {
			return ErrNotAnonymous
		}
		if err := a.fa.DeleteUser(ctx, userID); err != nil && !errors.Is(fusionAuthError(err, ""), ErrGone) {
			return fusionAuthError(err, "delete user "+userID)
		}
		deleted = true
		return nil
	})
	return deleted, err
}
