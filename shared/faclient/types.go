package faclient

import "encoding/json"

// User is a FusionAuth user as the API returns it. Absent keys decode to zero values.
type User struct {
	ID                     string         `json:"id,omitempty"`
	TenantID               string         `json:"tenantId,omitempty"`
	Active                 bool           `json:"active,omitempty"`
	Email                  string         `json:"email,omitempty"`
	Username               string         `json:"username,omitempty"`
	Password               string         `json:"password,omitempty"` // only sent, never returned
	FirstName              string         `json:"firstName,omitempty"`
	LastName               string         `json:"lastName,omitempty"`
	FullName               string         `json:"fullName,omitempty"`
	Data                   map[string]any `json:"data,omitempty"`
	Verified               bool           `json:"verified,omitempty"`
	PasswordChangeRequired bool           `json:"passwordChangeRequired,omitempty"`
	InsertInstant          int64          `json:"insertInstant,omitempty"`
	LastUpdateInstant      int64          `json:"lastUpdateInstant,omitempty"`
	LastLoginInstant       int64          `json:"lastLoginInstant,omitempty"`
	// PasswordLastUpdateInstant is when the password was last set: at creation, then by
	// a change-password (an emailed link) or an update carrying a password. Returned on
	// reads; not in the search index.
	PasswordLastUpdateInstant int64              `json:"passwordLastUpdateInstant,omitempty"`
	Registrations             []UserRegistration `json:"registrations,omitempty"`
}

// UserRegistration is a user's registration to an application.
type UserRegistration struct {
	ID            string   `json:"id,omitempty"`
	ApplicationID string   `json:"applicationId,omitempty"`
	Roles         []string `json:"roles,omitempty"`
}

// UserRequest is the body of create (and PUT) user calls.
type UserRequest struct {
	User                 User   `json:"user"`
	ApplicationID        string `json:"applicationId,omitempty"`
	SendSetPasswordEmail bool   `json:"sendSetPasswordEmail,omitempty"`
	SkipVerification     bool   `json:"skipVerification,omitempty"`
}

// UserResponse is FusionAuth's answer to user create, retrieve and update calls.
type UserResponse struct {
	User                   User   `json:"user"`
	Token                  string `json:"token,omitempty"`
	TokenExpirationInstant int64  `json:"tokenExpirationInstant,omitempty"`
}

// PatchOperation is one operation of a JSON Patch document (RFC 6902).
type PatchOperation struct {
	Op    string // "add", "remove", "replace", "move", "copy" or "test"
	Path  string // JSON Pointer into the request document, e.g. "/user/data/watchCount"
	Value any    // the value of add, replace and test: always sent, even when nil (null), 0 or false
	From  string // the source pointer of move and copy
}

// MarshalJSON encodes the operation with exactly the members RFC 6902 gives its op:
// "value" for add, replace and test even when it is null or zero (a test for 0 must not
// turn into a test without a value), "from" for move and copy.
func (o PatchOperation) MarshalJSON() ([]byte, error) {
	// Structs, not a map: a visit encodes several operations, and a map costs an
	// allocation per member and a sort.
	switch o.Op {
	case "add", "replace", "test":
		return json.Marshal(struct {
			Op    string `json:"op"`
			Path  string `json:"path"`
			Value any    `json:"value"`
		}{o.Op, o.Path, o.Value})
	case "move", "copy":
		return json.Marshal(struct {
			Op   string `json:"op"`
			Path string `json:"path"`
			From string `json:"from"`
		}{o.Op, o.Path, o.From})
	}
	return json.Marshal(struct {
		Op   string `json:"op"`
		Path string `json:"path"`
	}{o.Op, o.Path})
}

// JWTVendRequest asks FusionAuth to sign claims with a Key Master key.
type JWTVendRequest struct {
	Claims              map[string]any `json:"claims,omitempty"`
	KeyID               string         `json:"keyId,omitempty"` // Key Master UUID, not the JWT kid
	TimeToLiveInSeconds int            `json:"timeToLiveInSeconds,omitempty"`
}

// JWTVendResponse holds the vended token.
type JWTVendResponse struct {
	Token string `json:"token"`
}

// ForgotPasswordRequest starts FusionAuth's forgot-password flow. The send flag is a
// pointer: FusionAuth defaults it to true, and the official client's plain bool
// silently turns every email off.
type ForgotPasswordRequest struct {
	LoginID                 string         `json:"loginId"`
	ApplicationID           string         `json:"applicationId,omitempty"`
	SendForgotPasswordEmail *bool          `json:"sendForgotPasswordEmail,omitempty"`
	State                   map[string]any `json:"state,omitempty"`
}

// ForgotPasswordResponse carries the change-password id (answered when an API key is used).
type ForgotPasswordResponse struct {
	ChangePasswordID string `json:"changePasswordId,omitempty"`
}

// ChangePasswordRequest completes a change-password flow.
type ChangePasswordRequest struct {
	ChangePasswordID string `json:"changePasswordId,omitempty"`
	CurrentPassword  string `json:"currentPassword,omitempty"`
	LoginID          string `json:"loginId,omitempty"`
	Password         string `json:"password"`
	ApplicationID    string `json:"applicationId,omitempty"`
}

// ChangePasswordResponse returns a one-time password for an immediate login and the
// state given to forgot-password.
type ChangePasswordResponse struct {
	OneTimePassword string         `json:"oneTimePassword,omitempty"`
	State           map[string]any `json:"state,omitempty"`
}

// LoginRequest authenticates a user by login id and password, or by one-time password.
type LoginRequest struct {
	LoginID         string `json:"loginId,omitempty"`
	Password        string `json:"password,omitempty"`
	OneTimePassword string `json:"oneTimePassword,omitempty"`
	ApplicationID   string `json:"applicationId,omitempty"`
	IPAddress       string `json:"ipAddress,omitempty"`
	NoJWT           bool   `json:"noJWT,omitempty"`
}

// LoginResponse is FusionAuth's answer to a login. StatusCode tells the 2xx variants
// apart (200 logged in, 202 not registered for the application, 203 password change
// required, 212 email not verified, 242 two-factor required).
type LoginResponse struct {
	StatusCode             int    `json:"-"`
	Token                  string `json:"token,omitempty"`
	TokenExpirationInstant int64  `json:"tokenExpirationInstant,omitempty"`
	RefreshToken           string `json:"refreshToken,omitempty"`
	ChangePasswordID       string `json:"changePasswordId,omitempty"`
	TwoFactorID            string `json:"twoFactorId,omitempty"`
	User                   User   `json:"user"`
}

// SendRequest is the body of the Send Email API (POST /api/email/send/{emailTemplateId}):
// the template is rendered for each recipient. ToAddresses need not belong to a user
// (FusionAuth's Email APIs, "Send an Email", since 1.28.0); RequestData is the template's
// requestData variable.
type SendRequest struct {
	ApplicationID string         `json:"applicationId,omitempty"`
	ToAddresses   []EmailAddress `json:"toAddresses,omitempty"`
	UserIDs       []string       `json:"userIds,omitempty"`
	RequestData   map[string]any `json:"requestData,omitempty"`
}

// EmailAddress is one recipient of the Send Email API.
type EmailAddress struct {
	Address string `json:"address"`
	Display string `json:"display,omitempty"`
}

// SendResponse lists the recipients whose email could not be rendered: user ids in
// Results, addresses in AnonymousResults. Both empty: every email was queued.
type SendResponse struct {
	AnonymousResults map[string]EmailTemplateErrors `json:"anonymousResults,omitempty"`
	Results          map[string]EmailTemplateErrors `json:"results,omitempty"`
}

// EmailTemplateErrors are the template errors for one recipient, by template part.
type EmailTemplateErrors struct {
	ParseErrors  map[string]string `json:"parseErrors,omitempty"`
	RenderErrors map[string]string `json:"renderErrors,omitempty"`
}

// SortField orders search results.
type SortField struct {
	Name    string `json:"name"`
	Order   string `json:"order,omitempty"`   // "asc" (default) or "desc"
	Missing string `json:"missing,omitempty"` // "_first" or "_last"
}

// UserSearchCriteria selects users. Query is an Elasticsearch query serialised as a
// JSON string, as FusionAuth takes it. NumberOfResults and StartRow are flattened into
// the criteria on the wire even though the OpenAPI schema omits them.
type UserSearchCriteria struct {
	IDs             []string    `json:"ids,omitempty"`
	Query           string      `json:"query,omitempty"`
	QueryString     string      `json:"queryString,omitempty"`
	NumberOfResults *int        `json:"numberOfResults,omitempty"`
	StartRow        int         `json:"startRow,omitempty"`
	SortFields      []SortField `json:"sortFields,omitempty"`
	AccurateTotal   bool        `json:"accurateTotal,omitempty"`
	NextResults     string      `json:"nextResults,omitempty"`
}

// SearchRequest is the body of POST /api/user/search.
type SearchRequest struct {
	Search UserSearchCriteria `json:"search"`
}

// SearchResponse holds one page of users and the (possibly capped) total.
type SearchResponse struct {
	Total       int64  `json:"total"`
	NextResults string `json:"nextResults,omitempty"`
	Users       []User `json:"users,omitempty"`
}

// UserDeleteRequest deletes users in bulk, by ids or by query. Limit caps how many
// users one call affects (FusionAuth's default and practical maximum is 10,000).
type UserDeleteRequest struct {
	UserIDs     []string `json:"userIds,omitempty"`
	Query       string   `json:"query,omitempty"`
	QueryString string   `json:"queryString,omitempty"`
	DryRun      bool     `json:"dryRun"`
	HardDelete  bool     `json:"hardDelete"`
	Limit       int      `json:"limit,omitempty"`
}

// UserDeleteResponse reports which users a bulk delete affected (or would, on a dry run).
type UserDeleteResponse struct {
	DryRun     bool     `json:"dryRun"`
	HardDelete bool     `json:"hardDelete"`
	Total      int      `json:"total"`
	UserIDs    []string `json:"userIds,omitempty"`
}

// Key is a Key Master key. KID is the JWT "kid" header value, which is not the key's ID.
type Key struct {
	ID          string `json:"id"`
	KID         string `json:"kid,omitempty"`
	Algorithm   string `json:"algorithm,omitempty"`
	Type        string `json:"type,omitempty"`
	Name        string `json:"name,omitempty"`
	PublicKey   string `json:"publicKey,omitempty"`
	Certificate string `json:"certificate,omitempty"`
}

// KeyResponse wraps a Key.
type KeyResponse struct {
	Key Key `json:"key"`
}

// JWKSResponse is the JSON Web Key Set FusionAuth publishes. Raw keeps the exact
// document for JWT libraries that parse it themselves.
type JWKSResponse struct {
	Keys []JSONWebKey    `json:"keys"`
	Raw  json.RawMessage `json:"-"`
}

// JSONWebKey is one published public key.
type JSONWebKey struct {
	Alg string `json:"alg,omitempty"`
	Kty string `json:"kty,omitempty"`
	Use string `json:"use,omitempty"`
	KID string `json:"kid,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
}
