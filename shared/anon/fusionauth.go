package anon

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/changebank/anonuser/shared/faclient"
)

// The ports: what the domain needs from FusionAuth. *faclient.Client satisfies each;
// swapping in the official client means one adapter with these methods.
var (
	_ FusionAuth      = (*faclient.Client)(nil)
	_ ConversionStore = (*faclient.Client)(nil)
	_ ProfileStore    = (*faclient.Client)(nil)
)

// FusionAuth is what the visit flow needs from FusionAuth.
type FusionAuth interface {
	// CreateUser creates a user. Errors: 400 duplicates/validation, 401.
	CreateUser(ctx context.Context, userID string, req faclient.UserRequest) (*faclient.UserResponse, error)
	userStore
}

// ProfileStore is what a test-and-set update (Updater) needs: read a user, apply a JSON
// Patch document to it as one unit.
type ProfileStore interface {
	// RetrieveUser reads a user by id. Errors: 404 when it does not exist, 401.
	RetrieveUser(ctx context.Context, userID string) (*faclient.UserResponse, error)
	// PatchUserJSONPatch applies RFC 6902 operations as one unit. Errors: 400
	// [JSONPatchTestFailed] when a test found another value (faclient.IsPatchTestFailed),
	// 400 with field errors ([duplicate]user.email…), 404, 401.
	PatchUserJSONPatch(ctx context.Context, userID string, ops []faclient.PatchOperation) (*faclient.UserResponse, error)
}

// ConversionStore is what the conversion needs from FusionAuth.
type ConversionStore interface {
	userStore
	// ForgotPassword starts FusionAuth's set/forgot-password email. Errors: 403, 404, 422, 401.
	ForgotPassword(ctx context.Context, req faclient.ForgotPasswordRequest) (*faclient.ForgotPasswordResponse, error)
}

// userStore reads and changes one user; every port includes it.
type userStore interface {
	ProfileStore
	// PatchUser merges fields into a user. Errors: 400 with [duplicate]user.email or
	// another refused email code, 404, 401.
	PatchUser(ctx context.Context, userID string, req map[string]any) (*faclient.UserResponse, error)
}

// badRequest is HTTP 400, FusionAuth's status for a refused field. Spelled out so that
// the domain does not import net/http.
const badRequest = 400

// refusedEmailCodes are FusionAuth's codes for an address it will not store: the
// visitor should type another one (FusionAuth's user API, "user.email" field errors).
var refusedEmailCodes = []string{"[notEmail]user.email", "[tooLong]user.email", "[blocked]user.email"}

// fusionAuthError translates an error of the FusionAuth client into this package's
// vocabulary (errors.go), keeping the original wrapped for the log; what says what was
// being done. It is the only place that reads FusionAuth's statuses and codes.
func fusionAuthError(err error, what string) error {
	if err == nil {
		return nil
	}
	var domain error
	fe, isAnswer := errors.AsType[*faclient.Error](err)
	switch {
	case !isAnswer:
		domain = ErrUnavailable // unreachable, timed out, or an answer it could not read
	case faclient.IsNotFound(err):
		domain = ErrGone
	case faclient.IsDuplicate(err, "user.email"):
		domain = ErrTaken
	case fe.StatusCode == badRequest && slices.ContainsFunc(refusedEmailCodes, fe.HasCode):
		domain = ErrInvalidEmail
	default:
		domain = ErrUnavailable
	}
	return fmt.Errorf("%w: %s: %w", domain, what, err)
}

// readActive reads a user that must still exist and be active. Errors: ErrGone,
// ErrUnavailable.
func readActive(ctx context.Context, fa ProfileStore, userID string) (faclient.User, error) {
	got, err := fa.RetrieveUser(ctx, userID)
	if err != nil {
		return faclient.User{}, fusionAuthError(err, "read user "+userID)
	}
	if !got.User.Active {
		return faclient.User{}, fmt.Errorf("%w: user %s is deactivated", ErrGone, userID)
	}
	return got.User, nil
}
