package site

import (
	"context"
	"net/url"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/signin"
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
	_ SessionTokens     = (*token.Session)(nil)
	_ FlowTokens        = (*token.SignIn)(nil)
	_ Settler           = (*anon.Accounts)(nil)
)

// Visits is the part of *anon.Service the video page uses.
type Visits interface {
	// StartProfile creates a stub user that has watched once. Errors: anon.ErrUnavailable.
	StartProfile(ctx context.Context) (anon.Profile, error)
	// RecordWatch counts one more watch of a stub. With anon.ErrContended the profile
	// is still returned (as last read) and only this watch is lost. Errors:
	// anon.ErrGone, anon.ErrNotAnonymous (the stub became an account),
	// anon.ErrContended, anon.ErrUnavailable.
	RecordWatch(ctx context.Context, userID string) (anon.Profile, error)
	// RecordSignedInWatch counts one more watch on a signed-in person's account; with
	// anon.ErrContended the profile is still returned. Errors: anon.ErrGone,
	// anon.ErrContended, anon.ErrUnavailable.
	RecordSignedInWatch(ctx context.Context, userID string) (anon.Profile, error)
	// Account reads a signed-in person's profile without counting. Errors:
	// anon.ErrGone, anon.ErrUnavailable.
	Account(ctx context.Context, userID string) (anon.Profile, error)
	// RecordProgress credits seconds watched to a stub (account false) or a signed-in
	// person's account, capped by the visit, and returns the seconds credited. Errors:
	// anon.ErrGone, anon.ErrNotAnonymous, anon.ErrContended, anon.ErrUnavailable.
	RecordProgress(ctx context.Context, userID string, seconds int, account bool) (anon.Profile, int, error)
}

// Conversions is the part of *anon.Converter the register page uses.
type Conversions interface {
	// Visitor reads the visitor's profile. Errors: anon.ErrGone, anon.ErrUnavailable.
	Visitor(ctx context.Context, userID string) (anon.Profile, error)
	// RequestConversion asks for the address on the visitor's profile and sends its one
	// email; it returns the id of the user holding the profile afterwards (a fresh stub
	// after a change of address; may be set with an error too) and whether the address
	// was another account's (counted, never shown). Errors: anon.ErrGone,
	// anon.ErrNotAnonymous, anon.ErrInvalidEmail (anon.ErrEmailTooLong),
	// anon.ErrEmailNotSent, anon.ErrContended, anon.ErrUnavailable.
	RequestConversion(ctx context.Context, userID, email string) (anon.Requested, error)
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

// SessionTokens signs and checks session cookies (*token.Session): the same shape as
// a visitor token, another purpose, so neither passes for the other.
type SessionTokens interface {
	VisitorTokens
}

// FlowTokens signs and checks the sign-in flow cookie (*token.SignIn).
type FlowTokens interface {
	// Sign returns a token carrying the flow.
	Sign(f token.Flow) (string, error)
	// Verify returns the flow a token carries. Errors are *token.Error.
	Verify(token string) (token.Flow, error)
}

// SignInFlow is the OpenID Connect client of the sign-in (*openid.Client of package
// signin/openid; the register function's wiring pins it, so that the handlers link none
// of the OAuth libraries).
type SignInFlow interface {
	// Start returns a fresh flow to keep and the FusionAuth URL to send the browser to.
	Start(screen signin.Screen) (token.Flow, string, error)
	// Finish turns the callback's query and the kept flow (nil: none) into who signed
	// in. Errors: signin.ErrDenied, ErrUnsolicited, ErrState, ErrCode, ErrIDToken,
	// ErrUnavailable.
	Finish(ctx context.Context, q url.Values, flow *token.Flow) (signin.Identity, error)
	// LogoutURL is FusionAuth's logout page, which ends its SSO session and comes back.
	LogoutURL() string
}

// Settler settles the visitor's stub when a person signs in (*anon.Accounts).
type Settler interface {
	// SignedIn converts the stub (the same user signed in) or merges it into the
	// account that signed in. Errors: anon.ErrGone (the account), anon.ErrContended,
	// anon.ErrUnavailable.
	SignedIn(ctx context.Context, accountID, stubID string) (anon.Settled, error)
}

// SignatureVerifier checks FusionAuth's signature of a webhook body (*token.Webhook).
type SignatureVerifier interface {
	// Verify checks that signature (the SignatureHeader's value) signs exactly body.
	// Errors are *token.Error.
	Verify(ctx context.Context, signature string, body []byte) error
}
