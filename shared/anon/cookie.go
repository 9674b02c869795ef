package anon

import (
	"net/http"
	"time"
)

// NewCookie returns the visitor cookie carrying token: HttpOnly (no script can read
// it), Secure, SameSite=Lax (sent on top-level navigation, not on cross-site POSTs),
// for the whole site, for CookieTTL.
func NewCookie(name, token string) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Value:    token,
		Path:     "/",
		MaxAge:   int(CookieTTL / time.Second),
		HttpOnly: true,
		Secure:   true,
		SameSite: http.SameSiteLaxMode,
	}
}

// ClearCookie returns a cookie that deletes the visitor cookie (Max-Age=0).
func ClearCookie(name string) *http.Cookie {
	c := NewCookie(name, "")
	c.MaxAge = -1
	return c
}
