package faclient

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// CreateUser creates a user (POST /api/user, or /api/user/{userID} when userID is
// set). Errors: 400 with "[duplicate]user.email"/"[duplicate]user.username" or
// "[blank]…" field errors, 401.
func (c *Client) CreateUser(ctx context.Context, userID string, req UserRequest) (*UserResponse, error) {
	cl := call{method: http.MethodPost, endpoint: "/api/user", body: req}
	if userID != "" {
		cl.endpoint, cl.path = "/api/user/{userId}", userPath(userID)
	}
	return decoded[UserResponse](ctx, c, cl)
}

// RetrieveUser reads a user by id (GET /api/user/{userId}). Errors: 404 (IsNotFound), 401.
func (c *Client) RetrieveUser(ctx context.Context, userID string) (*UserResponse, error) {
	if userID == "" {
		return nil, fmt.Errorf("fusionauth: retrieve user: %w", errEmptyID)
	}
	return decoded[UserResponse](ctx, c, call{method: http.MethodGet, endpoint: "/api/user/{userId}", path: userPath(userID)})
}

// RetrieveUserByEmail reads a user by email, case-insensitively (GET /api/user?email=).
// Errors: 404 (IsNotFound), 401.
func (c *Client) RetrieveUserByEmail(ctx context.Context, email string) (*UserResponse, error) {
	return decoded[UserResponse](ctx, c, call{method: http.MethodGet, endpoint: "/api/user", query: url.Values{"email": {email}}})
}

// PatchUser changes only the given fields (PATCH /api/user/{userId}, application/json:
// objects merge, arrays append, null removes a field). Errors: 400 (duplicates,
// validation), 404, 401.
func (c *Client) PatchUser(ctx context.Context, userID string, req map[string]any) (*UserResponse, error) {
	if userID == "" {
		return nil, fmt.Errorf("fusionauth: patch user: %w", errEmptyID)
	}
	return decoded[UserResponse](ctx, c, call{method: http.MethodPatch, endpoint: "/api/user/{userId}", path: userPath(userID), body: req})
}

// PatchUserJSONPatch applies a JSON Patch document (RFC 6902) to a user
// (PATCH /api/user/{userId}, application/json-patch+json). The document addresses the
// request shape, so paths start with /user (e.g. "/user/data/watchCount"), and FusionAuth
// applies it as one unit: when any operation fails nothing changes. A test operation
// whose value differs is FusionAuth's 400 [JSONPatchTestFailed] (IsPatchTestFailed); a
// test of a path that does not exist is a 400 [invalidJSON] instead, so to guard a key
// that may be absent test another value, such as /user/lastUpdateInstant. Errors: 400,
// 404, 401.
func (c *Client) PatchUserJSONPatch(ctx context.Context, userID string, ops []PatchOperation) (*UserResponse, error) {
	if userID == "" {
		return nil, fmt.Errorf("fusionauth: patch user: %w", errEmptyID)
	}
	return decoded[UserResponse](ctx, c, call{method: http.MethodPatch, endpoint: "/api/user/{userId}", path: userPath(userID),
		body: ops, contentType: "application/json-patch+json"})
}

// DeleteUser permanently deletes a user (DELETE /api/user/{userId}?hardDelete=true), as
// the official client's DeleteUser does. Errors: 404, 401.
func (c *Client) DeleteUser(ctx context.Context, userID string) error {
	if userID == "" {
		return fmt.Errorf("fusionauth: delete user: %w", errEmptyID)
	}
	_, err := c.do(ctx, call{method: http.MethodDelete, endpoint: "/api/user/{userId}", path: userPath(userID), query: url.Values{"hardDelete": {"true"}}}, nil)
	return err
}

// VendJWT has FusionAuth sign claims with the Key Master key req.KeyID
// (POST /api/jwt/vend). Errors: 400 (unknown key, bad ttl), 401.
func (c *Client) VendJWT(ctx context.Context, req JWTVendRequest) (*JWTVendResponse, error) {
	return decoded[JWTVendResponse](ctx, c, call{method: http.MethodPost, endpoint: "/api/jwt/vend", body: req})
}

// ForgotPassword starts the forgot-password flow (POST /api/user/forgot-password).
// Errors: 403 (the tenant has no forgot-password template), 404 (no such login id),
// 422 (the user has no email), 400, 401.
func (c *Client) ForgotPassword(ctx context.Context, req ForgotPasswordRequest) (*ForgotPasswordResponse, error) {
	return decoded[ForgotPasswordResponse](ctx, c, call{method: http.MethodPost, endpoint: "/api/user/forgot-password", body: req})
}

// SendEmail renders the email template templateID for each recipient of req and queues
// the emails (POST /api/email/send/{emailTemplateId}), as the official client's
// SendEmail. FusionAuth answers 202 (its docs; its OpenAPI file says 200, which is also
// accepted); recipients whose email could not be rendered are listed in the answer
// rather than failing the call. Errors: 400 (no recipients, unknown application), 404
// (no such template), 401.
func (c *Client) SendEmail(ctx context.Context, templateID string, req SendRequest) (*SendResponse, error) {
	if templateID == "" {
		return nil, fmt.Errorf("fusionauth: send email: %w", errEmptyID)
	}
	return decoded[SendResponse](ctx, c, call{method: http.MethodPost, endpoint: "/api/email/send/{emailTemplateId}", path: "/api/email/send/" + url.PathEscape(templateID),
		body: req, okStatuses: []int{http.StatusAccepted}})
}

// ChangePassword completes a change-password flow with its id
// (POST /api/user/change-password, id in the body; the path form is deprecated). It
// needs no API key. Errors: 404 (unknown, expired or used id), 400 (password rules).
func (c *Client) ChangePassword(ctx context.Context, changePasswordID string, req ChangePasswordRequest) (*ChangePasswordResponse, error) {
	req.ChangePasswordID = changePasswordID
	return decoded[ChangePasswordResponse](ctx, c, call{method: http.MethodPost, endpoint: "/api/user/change-password", body: req, noKey: true})
}

// Login authenticates a user (POST /api/login). The 2xx variants come back in
// LoginResponse.StatusCode. Errors: 404 (unknown user or wrong password), 401, 409,
// 410, 423.
func (c *Client) Login(ctx context.Context, req LoginRequest) (*LoginResponse, error) {
	var out LoginResponse
	status, err := c.do(ctx, call{method: http.MethodPost, endpoint: "/api/login", body: req, okStatuses: []int{202, 203, 212, 213, 242}}, &out)
	if err != nil {
		return nil, err
	}
	out.StatusCode = status
	return &out, nil
}

// SearchUsersByQuery searches users (POST /api/user/search). With Elasticsearch the
// index is eventually consistent (about 1 s). Errors: 400 (bad query), 401, 503.
func (c *Client) SearchUsersByQuery(ctx context.Context, req SearchRequest) (*SearchResponse, error) {
	return decoded[SearchResponse](ctx, c, call{method: http.MethodPost, endpoint: "/api/user/search", body: req})
}

// DeleteUsersByQuery deletes (or with DryRun, counts) users by ids or query
// (DELETE /api/user/bulk with a JSON body). Errors: 400, 401, 503.
func (c *Client) DeleteUsersByQuery(ctx context.Context, req UserDeleteRequest) (*UserDeleteResponse, error) {
	return decoded[UserDeleteResponse](ctx, c, call{method: http.MethodDelete, endpoint: "/api/user/bulk", body: req})
}

// RetrieveKey reads a Key Master key, e.g. to learn its JWT kid (GET /api/key/{keyId}).
// Keys are global, so the tenant header is not sent. Errors: 404, 401 (the key API
// needs a global key with /api/key GET).
func (c *Client) RetrieveKey(ctx context.Context, keyID string) (*KeyResponse, error) {
	if keyID == "" {
		return nil, fmt.Errorf("fusionauth: retrieve key: %w", errEmptyID)
	}
	return decoded[KeyResponse](ctx, c, call{method: http.MethodGet, endpoint: "/api/key/{keyId}", path: "/api/key/" + url.PathEscape(keyID), global: true})
}

// JWKSPath is where FusionAuth publishes its public signing keys.
const JWKSPath = "/.well-known/jwks.json"

// RetrieveJsonWebKeySet reads the published public keys (GET /.well-known/jwks.json;
// no API key). The name is the official client's, initialism and all.
func (c *Client) RetrieveJsonWebKeySet(ctx context.Context) (*JWKSResponse, error) { //nolint:revive // official client's name
	var raw jsonRaw
	if _, err := c.do(ctx, call{method: http.MethodGet, endpoint: JWKSPath, noKey: true, global: true}, &raw); err != nil {
		return nil, err
	}
	out := JWKSResponse{Raw: append([]byte(nil), raw...)}
	if err := out.decode(); err != nil {
		return nil, fmt.Errorf("fusionauth: GET %s: decode response: %w", JWKSPath, err)
	}
	return &out, nil
}

// userPath is the path of the user userID.
func userPath(userID string) string { return "/api/user/" + url.PathEscape(userID) }

// decoded makes the call cl and returns FusionAuth's answer decoded as a T.
func decoded[T any](ctx context.Context, c *Client, cl call) (*T, error) {
	var out T
	if _, err := c.do(ctx, cl, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
