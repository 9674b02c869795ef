package site

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/faclient"
)

// TokenVerifier checks a visitor cookie token and returns the user id it names
// (*anon.Verifier). Errors are *anon.TokenError.
type TokenVerifier interface {
	Verify(ctx context.Context, token string) (string, error)
}

// cookieState is what the visitor cookie told us.
type cookieState int

const (
	cookieNone    cookieState = iota // no cookie: an unknown visitor
	cookieValid                      // a verified token naming a user
	cookieInvalid                    // a cookie we refuse: clear it, touch nothing
)

// readVisitor verifies the visitor cookie. A refused cookie is logged with its
// reason, never its value.
func readVisitor(r *http.Request, name string, tokens TokenVerifier, log *slog.Logger) (string, cookieState) {
	c, err := r.Cookie(name)
	if err != nil || c.Value == "" {
		return "", cookieNone
	}
	userID, err := tokens.Verify(r.Context(), c.Value)
	if err != nil {
		why := "invalid"
		var te *anon.TokenError
		if errors.As(err, &te) {
			why = te.Reason
		}
		log.WarnContext(r.Context(), "visitor cookie refused", "reason", why, "path", r.URL.Path)
		return "", cookieInvalid
	}
	return userID, cookieValid
}

// isPrefetch reports a speculative request (link prefetch, prerender, preview) that
// must not create or change anything.
func isPrefetch(r *http.Request) bool {
	if r.Method == http.MethodHead {
		return true
	}
	for _, h := range []string{"Sec-Purpose", "Purpose", "X-Purpose", "X-Moz"} {
		v := strings.ToLower(r.Header.Get(h))
		if strings.Contains(v, "prefetch") || strings.Contains(v, "prerender") || strings.Contains(v, "preview") {
			return true
		}
	}
	return false
}

// statusFor maps a failure to the status the visitor gets: FusionAuth unreachable,
// refusing us or failing is our outage (503), never the visitor's fault.
func statusFor(err error) int {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	case faclient.StatusCode(err) == http.StatusBadRequest:
		return http.StatusBadGateway
	}
	return http.StatusServiceUnavailable
}
