package site

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/changebank/anonuser/shared/token"
)

// Cookies of the sign-in, beside the visitor cookie.
const (
	// flowCookie carries a sign-in from /login to /callback (token.SignIn); only
	// /callback reads it.
	flowCookie = "signin_flow"
	// welcomeCookie marks the one page view right after sign-in: the redirect back to
	// /video shows the account's count without counting a watch.
	welcomeCookie = "signed_in"
	// signedOutCookie marks the page view right after logout: /video says so and offers
	// to log in again, instead of starting a new anonymous profile at once.
	signedOutCookie = "signed_out"
)

// DefaultSessionCookie is the session cookie's name when configuration gives none.
const DefaultSessionCookie = "session"

// viewer is who the header says is here: a signed-in person (with their address when
// the page read it) or not. Every page's data carries one.
type viewer struct {
	SignedIn bool
	Email    string
}

// readSession verifies the session cookie. A refused cookie is logged with its reason
// and reported as cookieInvalid so the caller clears it.
func readSession(r *http.Request, name string, sessions SessionTokens, log *slog.Logger) (userID string, state cookieState, resign bool) {
	return readSigned(r, name, "session", sessions, log)
}

// sessionCookie returns the session cookie: HttpOnly, Secure, SameSite=Lax (sent when
// FusionAuth redirects back and on every navigation of the site, never on a cross-site
// POST), for the whole site, as long as the session lives.
func sessionCookie(name, value string) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: int(token.SessionTTL / time.Second),
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode}
}

// setSessionCookie signs a session for userID and sets it. Signing is local HMAC; if it
// failed the person is not signed in, and the caller says so.
func setSessionCookie(w http.ResponseWriter, name string, sessions SessionTokens, userID string) error {
	value, err := sessions.Sign(userID)
	if err != nil {
		return err
	}
	http.SetCookie(w, sessionCookie(name, value))
	return nil
}

// expired returns a cookie that deletes name at path (Max-Age=0).
func expired(name, path string) *http.Cookie {
	return &http.Cookie{Name: name, Path: path, MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode}
}

// flowCookieOf returns the sign-in flow cookie: only /callback receives it, for as long
// as a sign-in may take.
func flowCookieOf(value string) *http.Cookie {
	return &http.Cookie{Name: flowCookie, Value: value, Path: "/callback", MaxAge: int(token.SignInTTL / time.Second),
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode}
}

// welcomeCookieOf marks the next /video as the landing after sign-in, for a minute.
func welcomeCookieOf() *http.Cookie {
	return landingCookie(welcomeCookie, time.Minute)
}

// signedOutCookieOf marks the next /video as the landing after logout. FusionAuth's
// logout page goes on to /video after two seconds; five minutes leave room for a slow
// page without keeping the mark for a later visit.
func signedOutCookieOf() *http.Cookie {
	return landingCookie(signedOutCookie, 5*time.Minute)
}

// landingCookie is a one-shot mark for the next /video.
func landingCookie(name string, ttl time.Duration) *http.Cookie {
	return &http.Cookie{Name: name, Value: "1", Path: "/video", MaxAge: int(ttl / time.Second), HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode}
}
