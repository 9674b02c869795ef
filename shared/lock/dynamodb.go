package lock

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The item's attributes. The table's partition key is id (S); Time to Live is set on
// expiresAt.
const (
	attrID         = "id"
	attrOwner      = "owner"
	attrLeaseUntil = "leaseUntil" // N, Unix milliseconds
	attrExpiresAt  = "expiresAt"  // N, Unix seconds, for the table's TTL
)

// ttlGrace is how long after its lease ends an item stays for TTL to delete: long enough
// to look at a lease that just ended, short enough that the table holds only recent ones.
const ttlGrace = time.Hour

// The two condition expressions. owner is a DynamoDB reserved word, so it goes through a
// name placeholder; id and leaseUntil are not reserved.
const (
	lockCondition   = "attribute_not_exists(id) OR leaseUntil < :now"
	unlockCondition = "#o = :owner"
)

// DynamoDBClient is the part of *dynamodb.Client that DynamoDB uses, with the same
// signatures, so that a test can pass a real client pointed at a fake endpoint.
type DynamoDBClient interface {
	PutItem(ctx context.Context, params *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, params *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// DynamoDB holds leases in a DynamoDB table, one item per key (see the package doc for
// the item and the conditions). It is safe for concurrent use, within and across
// processes, as far as the client is.
type DynamoDB struct {
	client DynamoDBClient
	table  string
}

// NewDynamoDB returns leases kept in table through client.
func NewDynamoDB(client DynamoDBClient, table string) *DynamoDB {
	return &DynamoDB{client: client, table: table}
}

// TryLock takes key for owner until `until` if no one holds it or the holder's lease ended
// before now: a conditional PutItem. It answers false, nil when a live lease is held, by
// someone else or by owner. Any other failure of the call is an error naming the key and
// the table, wrapping the SDK's error.
func (d *DynamoDB) TryLock(ctx context.Context, key, owner string, now, until time.Time) (bool, error) {
	if err := checkLock(ctx, key, owner, now, until); err != nil {
		return false, err
	}
	_, err := d.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(d.table),
		Item: map[string]types.AttributeValue{
			attrID:         &types.AttributeValueMemberS{Value: key},
			attrOwner:      &types.AttributeValueMemberS{Value: owner},
			attrLeaseUntil: number(until.UnixMilli()),
			attrExpiresAt:  number(until.Add(ttlGrace).Unix()),
		},
		ConditionExpression:       aws.String(lockCondition),
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": number(now.UnixMilli())},
	})
	if err == nil {
		return true, nil
	}
	if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
		return false, nil
	}
	return false, fmt.Errorf("lock %q: put item in DynamoDB table %s: %w", key, d.table, err)
}

// Unlock releases key if owner holds it: a conditional DeleteItem. A lease someone else
// holds, or none, is left as it is, and that is not an error. Any other failure of the call
// is an error naming the key and the table, wrapping the SDK's error.
func (d *DynamoDB) Unlock(ctx context.Context, key, owner string) error {
	if err := checkUnlock(ctx, key, owner); err != nil {
		return err
	}
	_, err := d.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(d.table),
		Key:                       map[string]types.AttributeValue{attrID: &types.AttributeValueMemberS{Value: key}},
		ConditionExpression:       aws.String(unlockCondition),
		ExpressionAttributeNames:  map[string]string{"#o": attrOwner},
		ExpressionAttributeValues: map[string]types.AttributeValue{":owner": &types.AttributeValueMemberS{Value: owner}},
	})
	if err == nil {
		return nil
	}
	if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
		return nil
	}
	return fmt.Errorf("lock %q: delete item from DynamoDB table %s: %w", key, d.table, err)
}

func number(n int64) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
