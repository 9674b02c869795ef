package site

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/token"
)

// VisitorTokens signs and checks the tokens in visitor cookies (*token.Visitor).
type VisitorTokens interface {
	// Sign returns a token naming userID, signed with the current key.
	Sign(userID string) (string, error)
	// Verify returns the user id a token names; resign reports a token signed with an
	// older key, to be replaced by a fresh one on this visit. Errors are *token.Error.
	Verify(token string) (userID string, resign bool, err error)
}

// cookieState is what the visitor cookie told us.
type cookieState int

const (
	cookieNone    cookieState = iota // no cookie: an unknown visitor
	cookieValid                      // a verified token naming a user
	cookieInvalid                    // a cookie we refuse: clear it, touch nothing
)

// readVisitor verifies the visitor cookie. A refused cookie is logged with its
// reason, never its value. resign reports a valid cookie signed with an older key:
// once the visit succeeds the caller sets a fresh one (setVisitorCookie), so a key can
// be retired without logging anyone out.
func readVisitor(r *http.Request, name string, tokens VisitorTokens, log *slog.Logger) (userID string, state cookieState, resign bool) {
	c, err := r.Cookie(name)
	if err != nil || c.Value == "" {
		return "", cookieNone, false
	}
	userID, resign, err = tokens.Verify(c.Value)
	if err != nil {
		log.WarnContext(r.Context(), "visitor cookie refused", "reason", token.Reason(err), "path", r.URL.Path)
		return "", cookieInvalid, false
	}
	return userID, cookieValid, resign
}

// setVisitorCookie signs a token for userID and sets it as the visitor cookie. Signing
// is local HMAC and cannot fail in practice; if it did, the visitor keeps the cookie
// they have (or none) and the page still renders.
func setVisitorCookie(w http.ResponseWriter, r *http.Request, name string, tokens VisitorTokens, userID string, log *slog.Logger) {
	value, err := tokens.Sign(userID)
	if err != nil {
		log.ErrorContext(r.Context(), "visitor cookie not signed", "userId", userID, "error", err)
		return
	}
	http.SetCookie(w, visitorCookie(name, value))
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
