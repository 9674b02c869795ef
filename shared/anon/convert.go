package anon

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/changebank/anonuser/shared/faclient"
)

// Converter turns a stub user into one that can set a password via email.
type Converter struct {
	fa            ConversionStore
	updates       *Updater
	applicationID string
	now           func() time.Time
}

// NewConverter returns a Converter; applicationID selects the application's email
// templates, if it has its own. now is the clock; nil means time.Now.
func NewConverter(fa ConversionStore, applicationID string, now func() time.Time) *Converter {
	if now == nil {
		now = time.Now
	}
	return &Converter{fa: fa, updates: NewUpdater(fa), applicationID: applicationID, now: now}
}

// ConversionState is the forgot-password state that marks an anonymous conversion:
// the email template words the message as "set your password", not "change it".
var ConversionState = map[string]any{"anon_user": "true"}

// RequestConversion puts email on the stub user userID and sends FusionAuth's
// set-password email: three FusionAuth calls (read, patch, forgot-password), two
// when the same address is submitted again (no patch needed).
//
// An address that belongs to another account returns nil like a success, after
// changing nothing and sending nothing: the visitor must not learn which addresses
// have accounts. FusionAuth's duplicate error on the PATCH decides, not a lookup
// first, which would race. Errors: ErrGone, ErrNotAnonymous, ErrInvalidEmail,
// ErrEmailNotSent, ErrUnavailable.
func (c *Converter) RequestConversion(ctx context.Context, userID, email string) error {
	u, err := readActive(ctx, c.fa, userID)
	if err != nil {
		return err
	}
	if anonymous, _ := u.Data[DataAnonymous].(bool); !anonymous {
		return ErrNotAnonymous
	}
	if !strings.EqualFold(u.Email, email) {
		_, err := c.fa.PatchUser(ctx, userID, map[string]any{"user": map[string]any{
			"email": email,
			"data":  map[string]any{DataEmailPending: c.now().UnixMilli()},
		}})
		err = fusionAuthError(err, "set email on user "+userID)
		if errors.Is(err, ErrTaken) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	_, err = c.fa.ForgotPassword(ctx, faclient.ForgotPasswordRequest{
		LoginID:       email,
		ApplicationID: c.applicationID,
		State:         ConversionState,
	})
	if err != nil {
		// Whatever FusionAuth said, the address is saved and the email is not sent:
		// that is what the visitor can act on (send again).
		return fmt.Errorf("%w: %w", ErrEmailNotSent, fusionAuthError(err, "start set-password email for user "+userID))
	}
	return nil
}

// Visitor reads the profile of userID for the register page: one call. Errors:
// ErrGone, ErrUnavailable.
func (c *Converter) Visitor(ctx context.Context, userID string) (Profile, error) {
	u, err := readActive(ctx, c.fa, userID)
	if err != nil {
		return Profile{}, err
	}
	return ProfileOf(u), nil
}
