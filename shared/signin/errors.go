package signin

import "errors"

// The package's error vocabulary. Every error Finish returns wraps exactly one of
// these (test with errors.Is), with the detail kept for the log.
var (
	// ErrDenied: FusionAuth sent the browser back with an error (error=access_denied,
	// or any other): nobody signed in. Nothing to exchange.
	ErrDenied = errors.New("sign-in refused by FusionAuth")

	// ErrState: the callback's state does not match the flow this browser started, or
	// the browser holds no flow (expired, cleared, or another browser's link). The
	// code is not exchanged: it may be someone else's (login CSRF).
	ErrState = errors.New("sign-in state does not match")

	// ErrUnsolicited: a code came back with no state at all: a login FusionAuth started
	// on its own pages (for example after a password was set), not one this app
	// started. It is never exchanged; the caller starts a proper sign-in instead, which
	// FusionAuth's SSO session completes without asking again.
	ErrUnsolicited = errors.New("sign-in not started by this app")

	// ErrCode: FusionAuth refused to exchange the code (invalid_grant: expired, used
	// before, issued for another redirect or PKCE verifier). Start again.
	ErrCode = errors.New("authorization code refused")

	// ErrIDToken: the ID token is missing or does not verify: signature (FusionAuth's
	// JWKS), issuer, audience, expiry or nonce. Nobody is signed in.
	ErrIDToken = errors.New("ID token refused")

	// ErrUnavailable: FusionAuth could not be reached, failed (5xx), its keys could not
	// be fetched, or it refused this app as a client (invalid_client: a wrong client
	// secret is our configuration, not the visitor's doing). Try again later.
	ErrUnavailable = errors.New("sign-in unavailable")
)
