package site

import (
	"errors"
	"net/http"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/signin"
)

// Refusals of this package's own: requests turned away before the domain is asked.
var (
	errMethod          = errors.New("method not allowed")
	errTooLarge        = errors.New("request body too large")
	errMalformed       = errors.New("malformed request")
	errCrossSite       = errors.New("cross-site form post")
	errUnauthenticated = errors.New("caller not authenticated")
	errKeysUnavailable = errors.New("signing key unavailable")
	errNotFound        = errors.New("no such page")
)

// statusOf is the one place an error becomes an HTTP status: the domain's vocabulary
// (package anon), the sign-in's (package signin: a refused sign-in is the visitor's to
// retry, 4xx; FusionAuth failing is 503) and this package's refusals. FusionAuth failing, unreachable, slow or
// refusing us is our outage (503), never the visitor's fault; anything unnamed is a
// bug of ours (500).
func statusOf(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, errMethod):
		return http.StatusMethodNotAllowed
	case errors.Is(err, errTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, errMalformed), errors.Is(err, anon.ErrInvalidEmail),
		errors.Is(err, signin.ErrState), errors.Is(err, signin.ErrCode), errors.Is(err, signin.ErrIDToken):
		return http.StatusBadRequest
	case errors.Is(err, errNotFound):
		return http.StatusNotFound
	case errors.Is(err, signin.ErrDenied):
		return http.StatusForbidden
	case errors.Is(err, errCrossSite):
		return http.StatusForbidden
	case errors.Is(err, errOverLimit):
		return http.StatusTooManyRequests
	case errors.Is(err, errUnauthenticated):
		return http.StatusUnauthorized
	case errors.Is(err, anon.ErrNotAnonymous):
		return http.StatusConflict
	case errors.Is(err, anon.ErrEmailNotSent), errors.Is(err, anon.ErrUnavailable), errors.Is(err, anon.ErrContended),
		errors.Is(err, errKeysUnavailable), errors.Is(err, signin.ErrUnavailable), errors.Is(err, errLimitUnavailable):
		return http.StatusServiceUnavailable
	case errors.Is(err, anon.ErrGone):
		return http.StatusGone
	}
	return http.StatusInternalServerError
}
