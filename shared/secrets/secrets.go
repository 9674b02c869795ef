package secrets

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/changebank/anonuser/shared/backoff"
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
	region      string
	creds       aws.CredentialsProvider
	endpoint    string
	http        *http.Client
	signer      *v4.Signer
	maxAttempts int
}

// New returns a Client for o.
func New(o Options) (*Client, error) {
	if o.Region == "" {
		return nil, errors.New("secrets manager client: no region")
	}
	if o.Credentials == nil {
		return nil, errors.New("secrets manager client: no credentials")
	}
	c := &Client{region: o.Region, creds: o.Credentials, http: o.HTTPClient, signer: v4.NewSigner(), maxAttempts: o.MaxAttempts}
	if o.Endpoint == "" {
		c.endpoint = "https://secretsmanager." + o.Region + "." + dnsSuffix(o.Region)
	} else {
		u, err := url.Parse(o.Endpoint)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("secrets manager client: endpoint %q is not an absolute http(s) URL", o.Endpoint)
		}
		c.endpoint = strings.TrimRight(o.Endpoint, "/")
	}
	if c.http == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.DialContext = (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext
		c.http = &http.Client{Timeout: 5 * time.Second, Transport: t}
	}
	if c.maxAttempts <= 0 {
		c.maxAttempts = 3
	}
	return c, nil
}

// partitions maps region name prefixes to their partition's DNS suffix, as the SDK's
// internal/endpoints/awsrulesfn/partitions.json does (its regionRegex values begin with
// these); any other region is in the "aws" partition, as the SDK falls back to it too.
// Prefixes rather than those regexps: nothing to compile at cold start.
var partitions = []struct{ prefix, suffix string }{
	{"cn-", "amazonaws.com.cn"},
	{"eusc-de-", "amazonaws.eu"},
	{"us-iso-", "c2s.ic.gov"},
	{"us-isob-", "sc2s.sgov.gov"},
	{"eu-isoe-", "cloud.adc-e.uk"},
	{"us-isof-", "csp.hci.ic.gov"},
}

func dnsSuffix(region string) string {
	for _, p := range partitions {
		if strings.HasPrefix(region, p.prefix) {
			return p.suffix
		}
	}
	return "amazonaws.com"
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
	var lastErr error
	for attempt := range c.maxAttempts {
		if attempt > 0 {
			// Exponential with full jitter from 50 ms, capped at 1 s (attempt is 1, 2, …).
			if backoff.Sleep(ctx, backoff.FullJitter(50*time.Millisecond, time.Second, attempt)) != nil {
				return Value{}, fmt.Errorf("get secret value %q: %w (after %v)", secretID, context.Cause(ctx), lastErr)
			}
		}
		v, retry, err := c.try(ctx, body)
		if err == nil {
			return v, nil
		}
		lastErr = err
		if !retry || ctx.Err() != nil {
			break
		}
	}
	return Value{}, fmt.Errorf("get secret value %q: %w", secretID, lastErr)
}

// try makes one attempt and says whether a failure is worth another.
func (c *Client) try(ctx context.Context, body []byte) (Value, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return Value{}, false, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "secretsmanager.GetSecretValue")
	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		return Value{}, false, fmt.Errorf("credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "secretsmanager", c.region, time.Now()); err != nil {
		return Value{}, false, fmt.Errorf("sign request: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return Value{}, true, err
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return Value{}, true, fmt.Errorf("read response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		e := apiError(resp, raw)
		return Value{}, retryable(e), e
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
		return Value{}, false, errors.New("response is not a GetSecretValue result")
	}
	return Value{ARN: out.ARN, Name: out.Name, VersionID: out.VersionID, String: out.SecretString, Binary: out.SecretBinary}, false, nil
}

// apiError reads an AWS JSON error answer: the type from X-Amzn-ErrorType or the body's
// "__type" (or "code"), stripped of its namespace ("…#Name") and suffix ("Name:…"), as the
// SDK's awsjson protocol does.
func apiError(resp *http.Response, raw []byte) *Error {
	var body struct {
		Type    string `json:"__type"`
		Code    string `json:"code"`
		Message string `json:"message"`
		Msg     string `json:"Message"`
	}
	_ = json.Unmarshal(raw, &body) // an unreadable body leaves the status to speak
	code := resp.Header.Get("X-Amzn-ErrorType")
	for _, c := range []string{body.Type, body.Code} {
		if code == "" {
			code = c
		}
	}
	if i := strings.IndexByte(code, ':'); i >= 0 {
		code = code[:i]
	}
	if i := strings.IndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	if code == "" {
		code = "UnknownError"
	}
	msg := body.Msg
	if msg == "" {
		msg = body.Message
	}
	return &Error{StatusCode: resp.StatusCode, Code: code, Message: msg}
}

// retryable says whether the SDK's standard retryer would try again after e.
func retryable(e *Error) bool {
	switch e.Code {
	case "ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded",
		"RequestThrottled", "RequestThrottledException", "ProvisionedThroughputExceededException",
		"InternalServiceError", "InternalFailure", "ServiceUnavailable":
		return true
	}
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}
