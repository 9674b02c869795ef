package awsjson

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// TableOptions configure the client of one DynamoDB table.
type TableOptions struct {
	Table       string                  // required: the table's name
	Region      string                  // required
	Credentials aws.CredentialsProvider // required
	// Endpoint is the service's base URL; default https://dynamodb.<region>.<the
	// region's partition DNS suffix>.
	Endpoint string
	// HTTPClient sends the requests; default one with a 2 s timeout per attempt.
	HTTPClient *http.Client
	// MaxAttempts bounds tries of a call that failed in a way worth retrying; default 3.
	MaxAttempts int
}

// Table is one DynamoDB table over the JSON protocol (AWS JSON 1.0): what package lock's
// leases and package limit's counts share. It is safe for concurrent use.
type Table struct {
	*Client
	name string
}

// NewTable returns the client of o's table; name is what errors call it (e.g.
// "dynamodb locks"), maxResponse bounds an answer. A call's attempt times out after 2 s.
func NewTable(name string, o TableOptions, maxResponse int64) (*Table, error) {
	if o.Table == "" {
		return nil, fmt.Errorf("%s: no table", name)
	}
	c, err := New(Options{
		Service: "dynamodb", Name: name,
		ContentType: "application/x-amz-json-1.0", TargetPrefix: "DynamoDB_20120810",
		Region: o.Region, Credentials: o.Credentials, Endpoint: o.Endpoint,
		HTTPClient: o.HTTPClient, Timeout: 2 * time.Second, MaxAttempts: o.MaxAttempts, MaxResponse: maxResponse,
	})
	if err != nil {
		return nil, err
	}
	return &Table{Client: c, name: o.Table}, nil
}

// Name is the table's name.
func (t *Table) Name() string { return t.name }

// Do makes the operation op on the table with input (its TableName set here) and
// discards the answer.
func (t *Table) Do(ctx context.Context, op string, input map[string]any) error {
	input["TableName"] = t.name
	body, err := json.Marshal(input)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	_, err = t.Call(ctx, op, body)
	return err
}

// ConditionFailed reports DynamoDB's answer to a write whose condition did not hold.
func ConditionFailed(err error) bool { return IsCode(err, "ConditionalCheckFailedException") }

// S and N are DynamoDB attribute values: a string, a number.
func S(s string) map[string]string { return map[string]string{"S": s} }
func N(n int64) map[string]string  { return map[string]string{"N": strconv.FormatInt(n, 10)} }
