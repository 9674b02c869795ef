package anon

import (
	"errors"
	"fmt"
)

// The package's error vocabulary. Every error a function here returns either is nil,
// wraps exactly one of these (test with errors.Is), or is an internal failure (for
// example crypto/rand failing) that no caller can do anything about. What FusionAuth
// answered stays wrapped inside for the log, but callers decide on these alone; the
// translation from FusionAuth's answers is fusionAuthError, in fusionauth.go.
var (
	// ErrGone: the profile no longer exists, or its FusionAuth user was deactivated
	// (the prune schedule deleted it, or an administrator did). Start afresh.
	ErrGone = errors.New("profile no longer exists")

	// ErrNotAnonymous: the user is no longer a stub (converted, or a regular account
	// from the start); nothing anonymous may change it any more.
	ErrNotAnonymous = errors.New("user is not anonymous")

	// ErrInvalidEmail: the address is not one an account can have: malformed, over
	// FusionAuth's 191 characters, or refused by FusionAuth itself. The visitor should
	// type another.
	ErrInvalidEmail = errors.New("invalid email address")

	// ErrEmailTooLong: the address is longer than FusionAuth's 191 characters
	// (MaxEmailLen). It is an ErrInvalidEmail too (errors.Is); the page says which.
	ErrEmailTooLong = fmt.Errorf("%w: longer than %d characters", ErrInvalidEmail, MaxEmailLen)

	// ErrTaken: the address belongs to another account. RequestConversion never
	// returns it (a taken address must look like a free one); it exists so the
	// adapter names what FusionAuth said.
	ErrTaken = errors.New("email address belongs to another account")

	// ErrEmailNotSent: the address is saved on the profile but FusionAuth did not send
	// the set-password email; submitting the same address again finishes the job.
	ErrEmailNotSent = errors.New("set-password email not sent")

	// ErrContended: an update (Updater) waited too long for the profile's lease, or was
	// overtaken on every attempt by writes without it, and gave up. Nothing was written;
	// what it was for (one watch, say) is dropped. Rare: it takes a burst of writes to
	// one user.
	ErrContended = errors.New("update overtaken by other writes")

	// ErrUnavailable: FusionAuth failed (5xx), could not be reached, did not answer in
	// time, or refused this function's request (401/403, or a 400 it should not have
	// given). Not the visitor's doing: try again later. A timeout is this too, not an
	// error of its own: to the visitor it is the same "try again in a moment", and the
	// client has already retried what was safe to retry.
	ErrUnavailable = errors.New("FusionAuth unavailable")
)
