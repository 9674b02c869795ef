package lock

import (
	"context"
	"fmt"
	"time"

	"github.com/changebank/anonuser/shared/awsjson"
)

// DynamoDB holds leases in a DynamoDB table, one item per key (see the package doc for
// the item, the conditions and the client). It is safe for concurrent use, within and
// across processes.
type DynamoDB struct {
	table *awsjson.Table
}

// DynamoDBOptions configure a DynamoDB lease table.
type DynamoDBOptions = awsjson.TableOptions

// NewDynamoDB returns the lease table o names.
func NewDynamoDB(o DynamoDBOptions) (*DynamoDB, error) {
	t, err := awsjson.NewTable("dynamodb locks", o, 1<<16)
	if err != nil {
		return nil, err
	}
	return &DynamoDB{table: t}, nil
}

// Error is an error answer from DynamoDB.
type Error = awsjson.Error

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
	err := d.table.Do(ctx, "PutItem", map[string]any{
		"Item": map[string]any{
			"id":         awsjson.S(key),
			"owner":      awsjson.S(owner),
			"leaseUntil": awsjson.N(until.UnixMilli()),
			"expiresAt":  awsjson.N(until.Add(ttlGrace).Unix()),
		},
		"ConditionExpression":      "attribute_not_exists(id) OR leaseUntil < :now OR #o = :owner",
		"ExpressionAttributeNames": map[string]string{"#o": "owner"},
		"ExpressionAttributeValues": map[string]any{
			":now":   awsjson.N(now.UnixMilli()),
			":owner": awsjson.S(owner),
		},
	})
	if awsjson.ConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("lock %q: put item in DynamoDB table %s: %w", key, d.table.Name(), err)
	}
	return true, nil
}

// Unlock releases key if owner still holds it: a conditional DeleteItem. A lease someone
// else took over (ours ended) is left alone, and so is a key nobody holds.
func (d *DynamoDB) Unlock(ctx context.Context, key, owner string) error {
	if err := checkUnlock(ctx, key, owner); err != nil {
		return err
	}
	err := d.table.Do(ctx, "DeleteItem", map[string]any{
		"Key":                       map[string]any{"id": awsjson.S(key)},
		"ConditionExpression":       "#o = :owner",
		"ExpressionAttributeNames":  map[string]string{"#o": "owner"},
		"ExpressionAttributeValues": map[string]any{":owner": awsjson.S(owner)},
	})
	if err != nil && !awsjson.ConditionFailed(err) {
		return fmt.Errorf("lock %q: delete item from DynamoDB table %s: %w", key, d.table.Name(), err)
	}
	return nil
}
