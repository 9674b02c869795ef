package faclient

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Errors is FusionAuth's error body. FieldErrors is an object keyed by field path
// (the published OpenAPI file wrongly types it as an array).
type Errors struct {
	FieldErrors   map[string][]ErrorDetail `json:"fieldErrors,omitempty"`
	GeneralErrors []ErrorDetail            `json:"generalErrors,omitempty"`
}

// ErrorDetail is one FusionAuth error: a code such as "[duplicate]user.email" and a
// human-readable message.
type ErrorDetail struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Data    map[string]any `json:"data,omitempty"`
}

// Error is a non-success answer from FusionAuth.
type Error struct {
	Method     string // HTTP method
	Endpoint   string // path template, e.g. "/api/user/{userId}"
	StatusCode int
	Errors     Errors
}

// Error describes the failure with the error codes only: FusionAuth's messages can
// contain email addresses, which must not end up in logs.
func (e *Error) Error() string {
	var codes []string
	for _, fe := range e.Errors.FieldErrors {
		for _, d := range fe {
			codes = append(codes, d.Code)
		}
	}
	for _, d := range e.Errors.GeneralErrors {
		codes = append(codes, d.Code)
	}
	msg := fmt.Sprintf("fusionauth: %s %s: %d %s", e.Method, e.Endpoint, e.StatusCode, http.StatusText(e.StatusCode))
	if len(codes) > 0 {
		msg += ": " + strings.Join(codes, ", ")
	}
	return msg
}

// HasCode reports whether FusionAuth returned the given error code, for a field or in general.
func (e *Error) HasCode(code string) bool {
	for _, fe := range e.Errors.FieldErrors {
		for _, d := range fe {
			if d.Code == code {
				return true
			}
		}
	}
	for _, d := range e.Errors.GeneralErrors {
		if d.Code == code {
			return true
		}
	}
	return false
}

// StatusCode returns the HTTP status of a FusionAuth error answer inside err, or 0
// when err is not one (a transport error, a timeout).
func StatusCode(err error) int {
	var fe *Error
	if errors.As(err, &fe) {
		return fe.StatusCode
	}
	return 0
}

// IsNotFound reports whether FusionAuth answered 404 (no such user, key or id).
func IsNotFound(err error) bool { return StatusCode(err) == http.StatusNotFound }

// IsUnauthorized reports whether FusionAuth refused the API key (401: unknown key, or
// a key without permission for the endpoint and method).
func IsUnauthorized(err error) bool { return StatusCode(err) == http.StatusUnauthorized }

// IsDuplicate reports whether FusionAuth refused a write because the value of field
// (e.g. "user.email") already belongs to another object: code "[duplicate]<field>".
func IsDuplicate(err error, field string) bool {
	var fe *Error
	return errors.As(err, &fe) && fe.StatusCode == http.StatusBadRequest && fe.HasCode("[duplicate]"+field)
}

// IsPatchTestFailed reports whether FusionAuth refused a JSON Patch document because one
// of its test operations found another value: 400 with the general error
// [JSONPatchTestFailed] (prime-mvc's BaseJacksonContentHandler, which FusionAuth's API is
// built on). Another writer came first; re-read and try again. A 409 Conflict is the
// same lost race: FusionAuth answers it where it has optimistic locking (the identity
// provider API since 1.65.0), and a user PATCH that gains it would answer so too.
func IsPatchTestFailed(err error) bool {
	var fe *Error
	if !errors.As(err, &fe) {
		return false
	}
	return fe.StatusCode == http.StatusConflict || fe.StatusCode == http.StatusBadRequest && fe.HasCode("[JSONPatchTestFailed]")
}
