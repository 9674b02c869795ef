package anon

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/changebank/anonuser/shared/faclient"
)

// Conversion errors.
var (
	// ErrNotAnonymous: the user already converted (or was never a stub); nothing changed.
	ErrNotAnonymous = errors.New("user is not anonymous")
	// ErrEmailNotSent: the email is on the user but FusionAuth did not start the
	// forgot-password flow; submitting the same address again finishes the job.
	ErrEmailNotSent = errors.New("set-password email not sent")
	// ErrInvalidEmail: the address is not one we can send to.
	ErrInvalidEmail = errors.New("invalid email address")
)

// ConversionStore is what the conversion needs from FusionAuth (*faclient.Client).
type ConversionStore interface {
	// RetrieveUser reads a user by id. Errors: 404, 401.
	RetrieveUser(ctx context.Context, userID string) (*faclient.UserResponse, error)
	// PatchUser merges fields into a user. Errors: 400 with [duplicate]user.email, 404, 401.
	PatchUser(ctx context.Context, userID string, req map[string]any) (*faclient.UserResponse, error)
	// ForgotPassword starts FusionAuth's set/forgot-password email. Errors: 403, 404, 422, 401.
	ForgotPassword(ctx context.Context, req faclient.ForgotPasswordRequest) (*faclient.ForgotPasswordResponse, error)
}

// Converter turns a stub user into one that can set a password via email.
type Converter struct {
	fa            ConversionStore
	applicationID string
	now           func() time.Time
}

// NewConverter returns a Converter; applicationID selects the application's email
// templates, if it has its own.
func NewConverter(fa ConversionStore, applicationID string, now func() time.Time) *Converter {
	if now == nil {
		now = time.Now
	}
	return &Converter{fa: fa, applicationID: applicationID, now: now}
}

// ConversionState is the forgot-password state that marks an anonymous conversion:
// the email template words the message as "set your password", not "change it".
var ConversionState = map[string]any{"anon_user": "true"}

// maxEmailLen is FusionAuth's limit on user.email (an indexed 191-character column;
// longer addresses are refused with [tooLong]user.email), below RFC 5321's 254.
const maxEmailLen = 191

// NormalizeEmail validates an address typed into a form and returns it lower-cased
// (as FusionAuth stores it). Errors: ErrInvalidEmail, wrapped with the reason.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", fmt.Errorf("%w: empty", ErrInvalidEmail)
	case len(s) > maxEmailLen:
		return "", fmt.Errorf("%w: longer than %d characters", ErrInvalidEmail, maxEmailLen)
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" {
		return "", fmt.Errorf("%w: not a plain address", ErrInvalidEmail)
	}
	local, domain, _ := strings.Cut(s, "@")
	if len(local) > 64 || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.ContainsAny(s, " \t\r\n\"()<>[]\\,;:") {
		return "", fmt.Errorf("%w: not a deliverable address", ErrInvalidEmail)
	}
	return strings.ToLower(s), nil
}

// RequestConversion puts email on the stub user userID and sends FusionAuth's
// set-password email: three FusionAuth calls (read, patch, forgot-password), two
// when the same address is submitted again (no patch needed).
//
// An address that belongs to another account returns nil like a success, after
// changing nothing and sending nothing: the visitor must not learn which addresses
// have accounts. FusionAuth's duplicate error on the PATCH decides, not a lookup
// first, which would race. Errors: ErrUserGone, ErrNotAnonymous, ErrEmailNotSent.
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
		switch {
		case faclient.IsDuplicate(err, "user.email"):
			return nil
		case isRefusedEmail(err):
			return fmt.Errorf("%w: refused by FusionAuth: %w", ErrInvalidEmail, err)
		case faclient.IsNotFound(err):
			return ErrUserGone
		case err != nil:
			return fmt.Errorf("set email on user %s: %w", userID, err)
		}
	}
	_, err = c.fa.ForgotPassword(ctx, faclient.ForgotPasswordRequest{
		LoginID:       email,
		ApplicationID: c.applicationID,
		State:         ConversionState,
	})
	if err != nil {
		return fmt.Errorf("%w: user %s: %w", ErrEmailNotSent, userID, err)
	}
	return nil
}

// Visitor reads the profile of userID for the register page: one call. Errors:
// ErrUserGone.
func (c *Converter) Visitor(ctx context.Context, userID string) (Profile, error) {
	u, err := readActive(ctx, c.fa, userID)
	if err != nil {
		return Profile{}, err
	}
	return ProfileOf(u), nil
}

// isRefusedEmail reports FusionAuth refusing the address itself (format, length or a
// blocked domain) rather than failing: the visitor should type another one.
func isRefusedEmail(err error) bool {
	var fe *faclient.Error
	if !errors.As(err, &fe) || fe.StatusCode != 400 {
		return false
	}
	return fe.HasCode("[notEmail]user.email") || fe.HasCode("[tooLong]user.email") || fe.HasCode("[blocked]user.email")
}
