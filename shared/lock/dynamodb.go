package lock

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/changebank/anonuser/shared/awsjson"
)

// DynamoDB holds leases in a DynamoDB table, one item per key (see the package doc for
// the item, the conditions and the client). It is safe for concurrent use, within and
// across processes.
type DynamoDB struct {
	table string
	aws   *awsjson.Client
}

// DynamoDBOptions configure a DynamoDB lease table.
type DynamoDBOptions struct {
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

// NewDynamoDB returns the lease table o names.
func NewDynamoDB(o DynamoDBOptions) (*DynamoDB, error) {
	if o.Table == "" {
		return nil, fmt.Errorf("dynamodb locks: no table")
	}
	c, err := awsjson.New(awsjson.Options{
		Service: "dynamodb", Name: "dynamodb locks",
		ContentType: "application/x-amz-json-1.0", TargetPrefix: "DynamoDB_20120810",
		Region: o.Region, Credentials: o.Credentials, Endpoint: o.Endpoint,
		HTTPClient: o.HTTPClient, Timeout: 2 * time.Second, MaxAttempts: o.MaxAttempts, MaxResponse: 1 << 16,
	})
	if err != nil {
		return nil, err
	}
	return &DynamoDB{table: o.Table, aws: c}, nil
}

// Error is an error answer from DynamoDB.
type Error = awsjson.Error

// conditionFailed reports DynamoDB's answer to a write whose condition did not hold.
func conditionFailed(err error) bool { return awsjson.IsCode(err, "ConditionalCheckFailedException") }

// ttlGrace is how long after its lease ends an item stays for TTL to delete.
const ttlGrace = time.Hour

// TryLock takes key for owner until `until` if no one holds it, the holder's lease ended
// before now, or owner holds it already (the lease is then extended): a conditional
// PutItem. A failed condition is false, nil; any other failure is an error naming the
// key and the table.
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

// Unlock releases key if owner still holds it: a conditional DeleteItem. A lease someone
// else took over (ours ended) is left alone, and so is a key nobody holds.
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

func str(s string) map[string]string { return map[string]string{"S": s} }
func num(n int64) map[string]string  { return map[string]string{"N": strconv.FormatInt(n, 10)} }

// call makes the operation op with input; both operations here are safe to repeat.
func (d *DynamoDB) call(ctx context.Context, op string, input any) error {
	body, err := json.Marshal(input)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	_, err = d.aws.Call(ctx, op, body)
	return err
}
