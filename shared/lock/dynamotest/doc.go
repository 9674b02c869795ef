// Package dynamotest is an in-memory Amazon DynamoDB endpoint for tests, in the style of
// net/http/httptest: package lock's tests run the AWS SDK's real dynamodb client against
// it, so the SDK serialises every request and decodes every answer as it would with
// DynamoDB.
//
//	srv := dynamotest.NewServer(t, dynamotest.Table{Name: "locks", Key: "id"})
//	locks := lock.NewDynamoDB(srv.Client(t), "locks")
//	srv.Item("locks", "user-1")                                  // what the table holds
//	srv.Fail(500, "com.amazonaws.dynamodb.v20120810#InternalServerError", "boom") // until Restore
//
// It speaks the DynamoDB JSON 1.0 protocol (POST /, X-Amz-Target
// DynamoDB_20120810.<Operation>, Content-Type application/x-amz-json-1.0) for PutItem and
// DeleteItem only, and for what package lock sends with them:
//
//   - tables with a partition key of type S and no sort key; attribute values of type S
//     and N;
//   - condition expressions made of attribute_not_exists(path), `a = b` and `a < b`
//     joined by OR, with ExpressionAttributeNames and ExpressionAttributeValues. N
//     compares as a number, S by its UTF-8 bytes; a comparison with a missing attribute,
//     or between different types, is false; a condition on a missing item sees no
//     attributes. Placeholders that are not defined, or defined and not used, and
//     reserved words used as bare attribute names are refused as DynamoDB refuses them
//     (Developer Guide: "Condition expressions", "Expression attribute names", "Reserved
//     words in DynamoDB"; the fake knows only a part of that list, see reserved);
//   - each write checks its condition and applies itself in one step under one lock, as a
//     single DynamoDB write is atomic (Developer Guide, "Best practices for handling
//     concurrent updates in DynamoDB").
//
// A failed condition answers HTTP 400 with __type
// com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException, as DynamoDB does
// (Developer Guide, "Error handling with DynamoDB": an HTTP status, an exception name and
// a message; the SDK strips the namespace before the #). An unknown table answers
// ResourceNotFoundException. Anything else it does not implement (another operation, a
// parameter such as ReturnValues, another attribute type, another operator or function,
// AND, parentheses) answers a ValidationException that names it, so a test never passes on
// behaviour the fake only pretends to have.
//
// Every request must carry a SigV4 Authorization header whose credential scope is
// AccessKeyID/<date>/Region/dynamodb/aws4_request; the signature itself is not checked.
// Responses carry X-Amz-Crc32, which the SDK verifies.
package dynamotest
