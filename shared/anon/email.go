package anon

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"
)

// MaxEmailLen is FusionAuth's limit on user.email: an indexed 191-character column
// (longer addresses are refused with [tooLong]user.email), below RFC 5321's 254. The
// register form states it as a hint; the form field does not cut what is typed (a
// maxlength would silently truncate a pasted address), the server refuses a longer one
// with its own message (ErrEmailTooLong).
const MaxEmailLen = 191

// NormalizeEmail validates an address typed into a form, as typed (never shortened),
// and returns it lower-cased (as FusionAuth stores it). Errors: ErrEmailTooLong,
// ErrInvalidEmail wrapped with the reason.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", fmt.Errorf("%w: empty", ErrInvalidEmail)
	case utf8.RuneCountInString(s) > MaxEmailLen:
		return "", ErrEmailTooLong
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" {
		return "", fmt.Errorf("%w: not a plain address", ErrInvalidEmail)
	}
	local, domain, _ := strings.Cut(s, "@")
	if len(local) > 64 || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.ContainsAny(s, " \t\r\n\"()<>[]\\,;:") {
		return "", fmt.Errorf("%w: not a deliverable address", ErrInvalidEmail)
	}
	return strings.ToLower(s), nil
}
