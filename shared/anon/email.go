package anon

import (
	"fmt"
	"net/mail"
	"strings"
)

// MaxEmailLen is FusionAuth's limit on user.email: an indexed 191-character column
// (longer addresses are refused with [tooLong]user.email), below RFC 5321's 254. The
// register form's maxlength is rendered from it.
const MaxEmailLen = 191

// NormalizeEmail validates an address typed into a form and returns it lower-cased
// (as FusionAuth stores it). Errors: ErrInvalidEmail, wrapped with the reason.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", fmt.Errorf("%w: empty", ErrInvalidEmail)
	case len(s) > MaxEmailLen:
		return "", fmt.Errorf("%w: longer than %d characters", ErrInvalidEmail, MaxEmailLen)
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
