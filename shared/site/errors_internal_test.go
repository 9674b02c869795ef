package site

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/signin"
)

// TestStatusOf pins the one mapping from errors to statuses, for errors as the domain
// returns them: wrapped, with FusionAuth's answer inside.
func TestStatusOf(t *testing.T) {
	wrap := func(err error) error {
		return fmt.Errorf("%w: read user x: %w", err, errors.New("fusionauth: GET /api/user/{userId}: 503"))
	}
	cases := []struct {
		err  error
		want int
	}{
		{nil, http.StatusOK},
		{errMethod, http.StatusMethodNotAllowed},
		{errTooLarge, http.StatusRequestEntityTooLarge},
		{errMalformed, http.StatusBadRequest},
		{fmt.Errorf("%w: empty", anon.ErrInvalidEmail), http.StatusBadRequest},
		{wrap(anon.ErrInvalidEmail), http.StatusBadRequest},
		{errCrossSite, http.StatusForbidden},
		{errUnauthenticated, http.StatusUnauthorized},
		{errKeysUnavailable, http.StatusServiceUnavailable},
		{anon.ErrNotAnonymous, http.StatusConflict},
		{wrap(anon.ErrGone), http.StatusGone},
		{wrap(anon.ErrUnavailable), http.StatusServiceUnavailable},
		{fmt.Errorf("%w: user x: 20 attempts", anon.ErrContended), http.StatusServiceUnavailable},
		{fmt.Errorf("%w: %w", anon.ErrEmailNotSent, wrap(anon.ErrUnavailable)), http.StatusServiceUnavailable},
		{fmt.Errorf("%w: %w", anon.ErrEmailNotSent, wrap(anon.ErrGone)), http.StatusServiceUnavailable},
		{errNotFound, http.StatusNotFound},
		{errOverLimit, http.StatusTooManyRequests},
		{fmt.Errorf("%w: %w", errLimitUnavailable, errors.New("dynamodb limits: 500")), http.StatusServiceUnavailable},
		{fmt.Errorf("%w: error=\"access_denied\"", signin.ErrDenied), http.StatusForbidden},
		{fmt.Errorf("%w: the callback's state is not the flow's", signin.ErrState), http.StatusBadRequest},
		{fmt.Errorf("%w: 400 invalid_grant", signin.ErrCode), http.StatusBadRequest},
		{fmt.Errorf("%w: nonce is not the flow's", signin.ErrIDToken), http.StatusBadRequest},
		{fmt.Errorf("%w: token endpoint answered 500", signin.ErrUnavailable), http.StatusServiceUnavailable},
		{context.DeadlineExceeded, http.StatusInternalServerError}, // the domain names timeouts ErrUnavailable; a raw one is a bug
		{errors.New("random string: entropy exhausted"), http.StatusInternalServerError},
	}
	for _, tc := range cases {
		if got := statusOf(tc.err); got != tc.want {
			t.Errorf("statusOf(%v)=%d, want %d", tc.err, got, tc.want)
		}
	}
}

// TestDuration pins how the pages say a watch time, at each boundary.
func TestDuration(t *testing.T) {
	for seconds, want := range map[int]string{-1: "", 0: "", 1: "1 s", 59: "59 s", 60: "1 min 0 s", 252: "4 min 12 s",
		3599: "59 min 59 s", 3600: "1 h 0 min", 7500: "2 h 5 min"} {
		if got := duration(seconds); got != want {
			t.Errorf("duration(%d)=%q, want %q", seconds, got, want)
		}
	}
}
