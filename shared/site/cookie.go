package site

import (
	"net/http"
	"time"

	"github.com/changebank/anonuser/shared/token"
)

// visitorCookie returns the visitor cookie carrying a signed token: HttpOnly (no script
// can read it), Secure, SameSite=Lax (sent on top-level navigation, not on cross-site
// POSTs), for the whole site, as long as the token lives.
func visitorCookie(name, value string) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		MaxAge:   int(token.VisitorTTL / time.Second),
		HttpOnly: true,
		Secure:   true,
		SameSite: http.SameSiteLaxMode,
	}
}

// clearVisitorCookie returns a cookie that deletes the visitor cookie (Max-Age=0).
func clearVisitorCookie(name string) *http.Cookie {
	c := visitorCookie(name, "")
	c.MaxAge = -1
	return c
}
