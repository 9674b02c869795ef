// Package awsjson makes calls to an AWS service over its JSON protocol (AWS JSON 1.0 or
// 1.1: a POST of a JSON document to the service's endpoint, the operation named in
// X-Amz-Target), signed with the SDK's own SigV4 signer, retried as the SDK's standard
// retryer would. It is what package secrets (Secrets Manager's GetSecretValue) and
// packages lock and limit (DynamoDB's PutItem, DeleteItem and UpdateItem, through
// Table) share instead of the SDK's service clients, which would carry every operation
// of their service and its endpoint rules engine into each Lambda binary (see package
// secrets for the measurement).
package awsjson

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

// Options configure a Client.
type Options struct {
	// Service is the signing name and the endpoint's first label, e.g. "secretsmanager",
	// "dynamodb". Required.
	Service string
	// Name is what errors call the client, e.g. "secrets manager client".
	Name string
	// ContentType is the protocol's: "application/x-amz-json-1.1" or "-1.0". Required.
	ContentType string
	// TargetPrefix prefixes the operation in X-Amz-Target, e.g. "secretsmanager",
	// "DynamoDB_20120810". Required.
	TargetPrefix string
	Region       string                  // required, e.g. "eu-west-1"
	Credentials  aws.CredentialsProvider // required
	// Endpoint is the service's base URL; default https://<Service>.<region>.<the
	// region's partition DNS suffix>.
	Endpoint string
	// HTTPClient sends the requests; default one with Timeout per attempt.
	HTTPClient *http.Client
	// Timeout bounds one attempt of the default HTTP client; default 5 s.
	Timeout time.Duration
	// MaxAttempts bounds tries of a call that failed in a way worth retrying (a transport
	// error, throttling, a 5xx); default 3, like the SDK's standard retryer.
	MaxAttempts int
	// MaxResponse bounds a response body; default 1 MiB.
	MaxResponse int64
}

// Client calls one AWS service. It is safe for concurrent use.
type Client struct {
	o      Options
	signer *v4.Signer
	sleep  func(context.Context, time.Duration) error // the wait between attempts
}

// New returns a Client for o.
func New(o Options) (*Client, error) {
	if o.Name == "" {
		o.Name = o.Service + " client"
	}
	if o.Service == "" || o.ContentType == "" || o.TargetPrefix == "" {
		return nil, fmt.Errorf("%s: service, content type and target prefix are required", o.Name)
	}
	if o.Region == "" {
		return nil, fmt.Errorf("%s: no region", o.Name)
	}
	if o.Credentials == nil {
		return nil, fmt.Errorf("%s: no credentials", o.Name)
	}
	if o.Endpoint == "" {
		o.Endpoint = "https://" + o.Service + "." + o.Region + "." + DNSSuffix(o.Region)
	} else {
		u, err := url.Parse(o.Endpoint)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("%s: endpoint %q is not an absolute http(s) URL", o.Name, o.Endpoint)
		}
		o.Endpoint = strings.TrimRight(o.Endpoint, "/")
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.HTTPClient == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.DialContext = dialer.DialContext
		o.HTTPClient = &http.Client{Timeout: o.Timeout, Transport: t}
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 3
	}
	if o.MaxResponse <= 0 {
		o.MaxResponse = 1 << 20
	}
	return &Client{o: o, signer: v4.NewSigner(), sleep: backoff.Sleep}, nil
}

// dialer connects the default HTTP client: a connection not made in 2 s is not worth
// the rest of the attempt.
var dialer = &net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}

// HTTPTimeout bounds one attempt of the client's HTTP client (0: none but the context's).
func (c *Client) HTTPTimeout() time.Duration { return c.o.HTTPClient.Timeout }

// Endpoint is the base URL the client calls.
func (c *Client) Endpoint() string { return c.o.Endpoint }

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

// DNSSuffix is the DNS suffix of region's partition.
func DNSSuffix(region string) string {
	for _, p := range partitions {
		if strings.HasPrefix(region, p.prefix) {
			return p.suffix
		}
	}
	return "amazonaws.com"
}

// Error is an error answer from the service.
type Error struct {
	StatusCode int
	Code       string // e.g. "ResourceNotFoundException", "ConditionalCheckFailedException"
	Message    string
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("%s (HTTP %d): %s", e.Code, e.StatusCode, e.Message)
}

// Call makes the operation op with the JSON document body and returns the answer's
// body. An answer other than 200 is an *Error; what the SDK's standard retryer retries
// (a transport error, throttling, a 5xx) is tried again, at most MaxAttempts times in
// all, after a jittered wait from 50 ms up to 1 s. Errors do not quote the bodies.
func (c *Client) Call(ctx context.Context, op string, body []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var lastErr error
	for attempt := range c.o.MaxAttempts {
		if attempt > 0 {
			// Exponential with full jitter from 50 ms, capped at 1 s (attempt is 1, 2, …).
			if c.sleep(ctx, backoff.FullJitter(50*time.Millisecond, time.Second, attempt)) != nil {
				return nil, fmt.Errorf("%w (after %w)", context.Cause(ctx), lastErr)
			}
		}
		out, retry, err := c.try(ctx, op, body)
		if err == nil {
			return out, nil
		}
		lastErr = err
		if !retry || ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

// try makes one attempt and says whether a failure is worth another.
func (c *Client) try(ctx context.Context, op string, body []byte) ([]byte, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.o.Endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return nil, false, err
	}
	req.Header.Set("Content-Type", c.o.ContentType)
	req.Header.Set("X-Amz-Target", c.o.TargetPrefix+"."+op)
	creds, err := c.o.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), c.o.Service, c.o.Region, time.Now()); err != nil {
		return nil, false, fmt.Errorf("sign request: %w", err)
	}
	resp, err := c.o.HTTPClient.Do(req)
	if err != nil {
		return nil, true, err
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, c.o.MaxResponse))
	if err != nil {
		return nil, true, fmt.Errorf("read response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		e := apiError(resp, raw)
		return nil, retryable(e), e
	}
	return raw, false, nil
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
		"InternalServiceError", "InternalFailure", "InternalServerError", "ServiceUnavailable":
		return true
	}
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// IsCode reports whether err is (or wraps) an *Error with code.
func IsCode(err error, code string) bool {
	e, ok := errors.AsType[*Error](err)
	return ok && e.Code == code
}
