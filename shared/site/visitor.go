package site

import (
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/changebank/anonuser/shared/token"
)

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
	return readSigned(r, name, "visitor", tokens, log)
}

// readSigned verifies the cookie name, a token of kind ("visitor", "session") that
// names a user.
func readSigned(r *http.Request, name, kind string, tokens VisitorTokens, log *slog.Logger) (userID string, state cookieState, resign bool) {
	c, err := r.Cookie(name)
	if err != nil || c.Value == "" {
		return "", cookieNone, false
	}
	userID, resign, err = tokens.Verify(c.Value)
	if err != nil {
		log.WarnContext(r.Context(), kind+" cookie refused", "reason", token.Reason(err), "path", r.URL.Path)
		return "", cookieInvalid, false
	}
	return userID, cookieValid, resign
}

// whose is whom a request speaks for: the signed-in person's account (a valid session;
// nil sessions: none), else the visitor cookie's stub, else nobody ("").
func whose(r *http.Request, sessionName string, sessions SessionTokens, cookieName string, visitors VisitorTokens, log *slog.Logger) (userID string, account bool) {
	if sessions != nil {
		if id, state, _ := readSession(r, sessionName, sessions, log); state == cookieValid {
			return id, true
		}
	}
	if id, state, _ := readVisitor(r, cookieName, visitors, log); state == cookieValid {
		return id, false
	}
	return "", false
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

// speculativeHeaders carry a browser's (or proxy's) note that a request is a prefetch,
// prerender or preview rather than the visitor's own navigation.
var speculativeHeaders = []string{"Sec-Purpose", "Purpose", "X-Purpose", "X-Moz"}

// isPrefetch reports a speculative request (link prefetch, prerender, preview) that
// must not create or change anything.
func isPrefetch(r *http.Request) bool {
	if r.Method == http.MethodHead {
		return true
	}
	return slices.ContainsFunc(speculativeHeaders, func(h string) bool {
		v := strings.ToLower(r.Header.Get(h))
		return strings.Contains(v, "prefetch") || strings.Contains(v, "prerender") || strings.Contains(v, "preview")
	})
}
