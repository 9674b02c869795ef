package lock

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
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/changebank/anonuser/shared/backoff"
)

// DynamoDB holds leases in a DynamoDB table, one item per key (see the package doc for
// the item, the conditions and the client). It is safe for concurrent use, within and
// across processes.
type DynamoDB struct {
	table       string
	region      string
	creds       aws.CredentialsProvider
	endpoint    string
	http        *http.Client
	signer      *v4.Signer
	maxAttempts int
}

// DynamoDBOptions configure a DynamoDB lease table.
type DynamoDBOptions struct {
	Table       string                  // required: the table's name
	Region      string                  // required
	Credentials aws.CredentialsProvider // required
	// Endpoint is the service's base URL; default https://dynamodb.<region>.amazonaws.com
	// (.com.cn in the China regions).
	Endpoint string
	// HTTPClient sends the requests; default one with a 2 s timeout per attempt.
	HTTPClient *http.Client
	// MaxAttempts bounds tries of a call that failed in a way worth retrying; default 3.
	MaxAttempts int
}

// NewDynamoDB returns the lease table o names.
func NewDynamoDB(o DynamoDBOptions) (*DynamoDB, error) {
	if o.Table == "" || o.Region == "" || o.Credentials == nil {
		return nil, errors.New("dynamodb locks: table, region and credentials are required")
	}
	d := &DynamoDB{table: o.Table, region: o.Region, creds: o.Credentials, http: o.HTTPClient, signer: v4.NewSigner(), maxAttempts: o.MaxAttempts}
	if o.Endpoint == "" {
		suffix := "amazonaws.com"
		if strings.HasPrefix(o.Region, "cn-") {
			suffix = "amazonaws.com.cn"
		}
		d.endpoint = "https://dynamodb." + o.Region + "." + suffix
	} else {
		u, err := url.Parse(o.Endpoint)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("dynamodb locks: endpoint %q is not an absolute http(s) URL", o.Endpoint)
		}
		d.endpoint = strings.TrimRight(o.Endpoint, "/")
	}
	if d.http == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.DialContext = (&net.Dialer{Timeout: time.Second, KeepAlive: 30 * time.Second}).DialContext
		d.http = &http.Client{Timeout: 2 * time.Second, Transport: t}
	}
	if d.maxAttempts <= 0 {
		d.maxAttempts = 3
	}
	return d, nil
}

// Error is an error answer from DynamoDB.
type Error struct {
	StatusCode int
	Code       string // e.g. "ConditionalCheckFailedException", "ResourceNotFoundException"
	Message    string
}

func (e *Error) Error() string {
	return fmt.Sprintf("dynamodb: %s (HTTP %d): %s", e.Code, e.StatusCode, e.Message)
}

func conditionFailed(err error) bool {
	e, ok := errors.AsType[*Error](err)
	return ok && e.Code == "ConditionalCheckFailedException"
}

// TryLock takes key for owner until `until` if no one holds it, the holder's lease ended
// before now, or owner holds it already (the lease is then extended).
func (d *DynamoDB) TryLock(ctx context.Context, key, owner string, now, until time.Time) (bool, error) {
	if err := checkLock(ctx, key, owner, now, until); err != nil {
		return false, err
	}
	err := d.call(ctx, "PutItem", map[string]any{
		"TableName": d.table,
		"Item": map[string]any{
			"id":         str(key),
			"owner":      str(owner),
			"leaseUntil": num(until.UnixMilli()),
			"expiresAt":  num(until.Add(ttlGrace).Unix()),
		},
		"ConditionExpression":      "attribute_not_exists(id) OR leaseUntil < :now OR #o = :owner",
		"ExpressionAttributeNames": map[string]string{"#o": "owner"},
		"ExpressionAttributeValues": map[string]any{
			":now":   num(now.UnixMilli()),
			":owner": str(owner),
		},
	})
	if conditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("lock %q: put item in DynamoDB table %s: %w", key, d.table, err)
	}
	return true, nil
}

// Unlock releases key if owner still holds it; a lease someone else took over (ours
// ended) is left alone, and so is a key nobody holds.
func (d *DynamoDB) Unlock(ctx context.Context, key, owner string) error {
	if err := checkUnlock(ctx, key, owner); err != nil {
		return err
	}
	err := d.call(ctx, "DeleteItem", map[string]any{
		"TableName":                 d.table,
		"Key":                       map[string]any{"id": str(key)},
		"ConditionExpression":       "#o = :owner",
		"ExpressionAttributeNames":  map[string]string{"#o": "owner"},
		"ExpressionAttributeValues": map[string]any{":owner": str(owner)},
	})
	if err != nil && !conditionFailed(err) {
		return fmt.Errorf("lock %q: delete item from DynamoDB table %s: %w", key, d.table, err)
	}
	return nil
}

// ttlGrace is how long after its lease ends an item stays for TTL to delete.
const ttlGrace = time.Hour

func str(s string) map[string]string { return map[string]string{"S": s} }
func num(n int64) map[string]string  { return map[string]string{"N": strconv.FormatInt(n, 10)} }

// call makes the operation op with input, retrying what the SDK's standard retryer
// would (a transport error, throttling, a 5xx). Both operations here are safe to repeat.
func (d *DynamoDB) call(ctx context.Context, op string, input any) error {
	body, err := json.Marshal(input)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	var lastErr error
	for attempt := range d.maxAttempts {
		if attempt > 0 {
			if backoff.Sleep(ctx, backoff.FullJitter(25*time.Millisecond, 500*time.Millisecond, attempt)) != nil {
				return fmt.Errorf("%s: %w (after %w)", op, context.Cause(ctx), lastErr)
			}
		}
		retry, err := d.try(ctx, op, body)
		if err == nil {
			return nil
		}
		lastErr = err
		if !retry || ctx.Err() != nil {
			break
		}
	}
	return lastErr
}

// try makes one attempt and says whether a failure is worth another.
func (d *DynamoDB) try(ctx context.Context, op string, body []byte) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	creds, err := d.creds.Retrieve(ctx)
	if err != nil {
		return false, fmt.Errorf("credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := d.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "dynamodb", d.region, time.Now()); err != nil {
		return false, fmt.Errorf("sign request: %w", err)
	}
	resp, err := d.http.Do(req)
	if err != nil {
		return true, err
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return true, fmt.Errorf("read response: %w", err)
	}
	if resp.StatusCode == http.StatusOK {
		return false, nil
	}
	e := apiError(resp.StatusCode, raw)
	retry := e.StatusCode >= 500 || e.Code == "ThrottlingException" || e.Code == "ProvisionedThroughputExceededException" ||
		e.Code == "RequestLimitExceeded" || e.Code == "InternalServerError"
	return retry, e
}

// apiError reads an AWS JSON error answer: "__type" is "namespace#Code".
func apiError(status int, raw []byte) *Error {
	var body struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
		Msg     string `json:"Message"`
	}
	_ = json.Unmarshal(raw, &body) // an unreadable body leaves the status to speak
	code := body.Type
	if i := strings.IndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	if code == "" {
		code = "UnknownError"
	}
	msg := body.Message
	if msg == "" {
		msg = body.Msg
	}
	return &Error{StatusCode: status, Code: code, Message: msg}
}
