package site

import (
	"context"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/token"
)

// What the handlers need, each satisfied by a type of the domain (anon) or of package
// token; the pins below fail the build if one stops fitting.
var (
	_ Visits            = (*anon.Service)(nil)
	_ Conversions       = (*anon.Converter)(nil)
	_ Finisher          = (*anon.Converter)(nil)
	_ VisitorTokens     = (*token.Visitor)(nil)
	_ SignatureVerifier = (*token.Webhook)(nil)
)

// Visits is the part of *anon.Service the video page uses.
type Visits interface {
	// StartProfile creates a stub user that has watched once. Errors: anon.ErrUnavailable.
	StartProfile(ctx context.Context) (anon.Profile, error)
	// RecordWatch counts one more watch. With anon.ErrContended the profile is still
	// returned (as last read) and only this watch is lost. Errors: anon.ErrGone,
	// anon.ErrContended, anon.ErrUnavailable.
	RecordWatch(ctx context.Context, userID string) (anon.Profile, error)
}

// Conversions is the part of *anon.Converter the register page uses.
type Conversions interface {
	// Visitor reads the visitor's profile. Errors: anon.ErrGone, anon.ErrUnavailable.
	Visitor(ctx context.Context, userID string) (anon.Profile, error)
	// RequestConversion sets the email and sends the set-password email. Errors:
	// anon.ErrGone, anon.ErrNotAnonymous, anon.ErrInvalidEmail, anon.ErrEmailNotSent,
	// anon.ErrUnavailable.
	RequestConversion(ctx context.Context, userID, email string) error
}

// Finisher completes a conversion on first login (*anon.Converter).
type Finisher interface {
	// CompleteConversion converts the user if it is still a stub; it reports whether it
	// did. Errors: anon.ErrUnavailable.
	CompleteConversion(ctx context.Context, userID string) (bool, error)
}

// VisitorTokens signs and checks the tokens in visitor cookies (*token.Visitor).
type VisitorTokens interface {
	// Sign returns a token naming userID, signed with the current key.
	Sign(userID string) (string, error)
	// Verify returns the user id a token names; resign reports a token signed with an
	// older key, to be replaced by a fresh one on this visit. Errors are *token.Error.
	Verify(token string) (userID string, resign bool, err error)
}

// SignatureVerifier checks FusionAuth's signature of a webhook body (*token.Webhook).
type SignatureVerifier interface {
	// Verify checks that signature (the SignatureHeader's value) signs exactly body.
	// Errors are *token.Error.
	Verify(ctx context.Context, signature string, body []byte) error
}
