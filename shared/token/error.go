package token

import (
	"errors"

	"github.com/golang-jwt/jwt/v5"
)

// Error says why a token was refused. Reason is a short phrase safe to log ("expired",
// "unknown kid", ...); neither it nor Err ever holds the token.
type Error struct {
	Reason string
	Err    error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return "token refused: " + e.Reason + ": " + e.Err.Error()
	}
	return "token refused: " + e.Reason
}

func (e *Error) Unwrap() error { return e.Err }

// Reason returns the loggable reason of a refusal, or "invalid" for any other error.
func Reason(err error) string {
	if te, ok := errors.AsType[*Error](err); ok {
		return te.Reason
	}
	return "invalid"
}

// refused wraps a parse or validation failure of golang-jwt in an *Error.
func refused(err error) *Error {
	return &Error{Reason: reasonOf(err), Err: err}
}

var (
	errUnknownKID = errors.New("kid names no configured key")
	errNoKID      = errors.New("no kid header")
)

func reasonOf(err error) string {
	switch {
	case errors.Is(err, errNoKID):
		return "no kid"
	case errors.Is(err, errUnknownKID):
		return "unknown kid"
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "expired"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "required claim missing"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued), errors.Is(err, jwt.ErrTokenNotValidYet):
		return "not valid yet"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "bad signature or algorithm"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "signing key unavailable"
	}
	return "invalid"
}
