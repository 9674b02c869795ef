package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/changebank/anonuser/shared/awsjson"
)

// Value is one secret's current value.
type Value struct {
	ARN       string
	Name      string
	VersionID string
	String    *string // SecretString; nil when the secret holds SecretBinary
	Binary    []byte  // SecretBinary
}

// ErrNotFound matches (errors.Is) the error for a secret that does not exist, or has no
// current version: Secrets Manager's ResourceNotFoundException.
var ErrNotFound = errors.New("secret not found")

// Error is an error answer from Secrets Manager.
type Error struct {
	StatusCode int
	Code       string // e.g. "ResourceNotFoundException", "AccessDeniedException"
	Message    string
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("secrets manager: %s (HTTP %d): %s", e.Code, e.StatusCode, e.Message)
}

// Is reports ErrNotFound for a ResourceNotFoundException.
func (e *Error) Is(target error) bool {
	return target == ErrNotFound && e.Code == "ResourceNotFoundException"
}

// Options configure a Client.
type Options struct {
	Region      string                  // required, e.g. "eu-west-1"
	Credentials aws.CredentialsProvider // required
	// Endpoint is the service's base URL; default https://secretsmanager.<region>.<the
	// region's partition DNS suffix>.
	Endpoint string
	// HTTPClient sends the requests; default one with a 5 s timeout per attempt.
	HTTPClient *http.Client
	// MaxAttempts bounds tries of a call that failed in a way worth retrying (a transport
	// error, throttling, a 5xx); default 3, like the SDK's standard retryer.
	MaxAttempts int
}

// Client reads secret values. It is safe for concurrent use.
type Client struct {
	aws *awsjson.Client
}

// New returns a Client for o.
func New(o Options) (*Client, error) {
	c, err := awsjson.New(awsjson.Options{
		Service: "secretsmanager", Name: "secrets manager client",
		ContentType: "application/x-amz-json-1.1", TargetPrefix: "secretsmanager",
		Region: o.Region, Credentials: o.Credentials, Endpoint: o.Endpoint,
		HTTPClient: o.HTTPClient, MaxAttempts: o.MaxAttempts, MaxResponse: maxResponse,
	})
	if err != nil {
		return nil, err
	}
	return &Client{aws: c}, nil
}

// maxResponse bounds a response body: a secret value is at most 64 KB.
const maxResponse = 1 << 20

// GetSecretValue returns the current value of the secret secretID (a name or an ARN).
// A secret that does not exist gives an error matching ErrNotFound; other answers from
// the service are *Error. Errors never contain the value.
func (c *Client) GetSecretValue(ctx context.Context, secretID string) (Value, error) {
	body, err := json.Marshal(map[string]string{"SecretId": secretID})
	if err != nil {
		return Value{}, fmt.Errorf("get secret value: %w", err)
	}
	raw, err := c.aws.Call(ctx, "GetSecretValue", body)
	if e, ok := err.(*awsjson.Error); ok { //nolint:errorlint // only the service's own answer, not one wrapped with a context's end
		err = &Error{StatusCode: e.StatusCode, Code: e.Code, Message: e.Message}
	}
	if err != nil {
		return Value{}, fmt.Errorf("get secret value %q: %w", secretID, err)
	}
	var out struct {
		ARN          string
		Name         string
		VersionID    string `json:"VersionId"`
		SecretString *string
		SecretBinary []byte // base64 on the wire, as encoding/json decodes []byte
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		// The message of a JSON syntax error can quote the value: say only what failed.
		return Value{}, fmt.Errorf("get secret value %q: response is not a GetSecretValue result", secretID)
	}
	return Value{ARN: out.ARN, Name: out.Name, VersionID: out.VersionID, String: out.SecretString, Binary: out.SecretBinary}, nil
}
