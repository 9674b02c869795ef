// Package anon is the domain of anonymous ("stub") users: a visitor who does something
// worth recording gets a FusionAuth account with a random username and password, and
// a signed cookie naming it; what they do accrues in user.data; later they prove an
// email address and keep everything.
//
// The package holds the rules, its error vocabulary (errors.go: ErrGone,
// ErrNotAnonymous, ErrInvalidEmail, ErrTaken, ErrEmailNotSent, ErrContended,
// ErrUnavailable), the one update every change of user.data goes through, under the
// profile's lease (update.go: Updater; locks.go: Locks, Exclusive) and the small interfaces it needs from FusionAuth
// (fusionauth.go, satisfied by *faclient.Client, with the one function that translates
// FusionAuth's answers into that vocabulary). It knows nothing of HTTP: package site
// maps its errors to statuses, package token signs the cookie, functions/* wire it up.
package anon
