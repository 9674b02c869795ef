// Package dynamotest is an in-memory Amazon DynamoDB endpoint for tests, in the style of
// net/http/httptest: its own tests run the AWS SDK's real dynamodb client against it, so
// the SDK serialises every request and decodes every answer as it would with DynamoDB,
// and packages lock and limit test their clients against it.
//
//	srv := dynamotest.NewServer(t, dynamotest.Table{Name: "locks", Key: "id"})
//	c := srv.Client(t)                                           // the SDK's client for it
//	srv.Item("locks", "user-1")                                  // what the table holds
//	srv.Fail(500, "com.amazonaws.dynamodb.v20120810#InternalServerError", "boom") // until Restore
//
// It speaks the DynamoDB JSON 1.0 protocol (POST /, X-Amz-Target
// DynamoDB_20120810.<Operation>, Content-Type application/x-amz-json-1.0) for PutItem,
// DeleteItem and UpdateItem only, and for what packages lock and limit send with them:
//
//   - tables with a partition key of type S and no sort key; attribute values of type S
//     and N, numbers stored exactly and as DynamoDB stores them, without leading or
//     trailing zeroes (Developer Guide, "Supported data types and naming rules"; the
//     38-digit precision and the range are not checked);
//   - condition expressions made of attribute_not_exists(path), `a = b` and `a < b`
//     joined by OR, with ExpressionAttributeNames and ExpressionAttributeValues. N
//     compares as a number, S by its UTF-8 bytes; a comparison with a missing attribute,
//     or between different types, is false; a condition on a missing item sees no
//     attributes. Placeholders that are not defined, or defined and not used, and
//     reserved words used as bare attribute names are refused as DynamoDB refuses them
//     (Developer Guide: "Condition expressions", "Expression attribute names", "Reserved
//     words in DynamoDB"; the fake knows only a part of that list, see reserved);
//   - UpdateItem with an update expression of a SET clause (path = :value or path =
//     attribute) and an ADD clause (path :number: adds exactly, or sets the attribute
//     when it is absent; an attribute that is not a number is "An operand in the update
//     expression has an incorrect data type"), each at most once, in either order, on
//     top-level attributes other than the key, no path twice, operands read from the
//     item before the update; a condition checked against the item as it is (none: no
//     attributes); an item that did not exist created with its key; the placeholders of
//     both expressions checked together; ReturnValues NONE, ALL_NEW or UPDATED_NEW
//     (Developer Guide, "Update expressions"; API Reference, UpdateItem);
//   - each write checks its condition and applies itself in one step under one lock, as a
//     single DynamoDB write is atomic (Developer Guide, "Best practices for handling
//     concurrent updates in DynamoDB").
//
// A failed condition answers HTTP 400 with __type
// com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException, as DynamoDB does
// (Developer Guide, "Error handling with DynamoDB": an HTTP status, an exception name and
// a message; the SDK strips the namespace before the #). An unknown table answers
// ResourceNotFoundException. Anything else it does not implement (another operation, a
// parameter such as ReturnValues on PutItem or ALL_OLD on UpdateItem, another attribute
// type, another operator or function, AND, parentheses, REMOVE, DELETE, if_not_exists,
// arithmetic, nested paths) answers a ValidationException that names it, so a test never
// passes on behaviour the fake only pretends to have.
//
// Every request must carry a SigV4 Authorization header whose credential scope is
// AccessKeyID/<date>/Region/dynamodb/aws4_request; the signature itself is not checked.
// Responses carry X-Amz-Crc32, which the SDK verifies.
package dynamotest
