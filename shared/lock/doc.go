// Package lock holds per-key lease locks. The domain takes one per FusionAuth profile to
// serialise that profile's writes: FusionAuth's user PATCH has no compare-and-set
// (fusionauth-issues #3206), so two writers that read, change and PATCH the same profile at
// once would otherwise lose one change.
//
// Both implementations offer the same two calls:
//
//	TryLock(ctx, key, owner, now, until) (bool, error)
//	Unlock(ctx, key, owner) error
//
// Memory is a mutex-guarded map for local runs and tests. DynamoDB keeps one item per key
// in a DynamoDB table and is safe across processes, for the Lambda functions.
//
// # Semantics (the same for both)
//
//   - TryLock takes key for owner until `until` when no item holds it or the holder's
//     lease ended before now (leaseUntil < now: a lease ending exactly at now is still
//     live), or when owner holds it already: its lease then runs until `until`, so a
//     TryLock retried after a lost answer still succeeds. Owners are random per critical
//     section (package anon), so this is no re-entrance between writers. It answers
//     (false, nil) when someone else holds a live lease. Only a failure to ask is an error.
//   - Unlock deletes key's lease if owner holds it (live or expired). When the lease is
//     someone else's (ours expired and was taken over) or there is none, Unlock changes
//     nothing and returns nil: releasing is then already done.
//   - Times are compared at millisecond resolution, the unit of the DynamoDB item's
//     leaseUntil, so the two implementations agree to the millisecond.
//   - An empty key or owner, a zero now, or an until not after now (at that resolution)
//     is an error, before any I/O.
//
// # The DynamoDB pattern
//
// This is the lease-and-conditional-put protocol of AWS's DynamoDB Lock Client ("Building
// Distributed Locks with the DynamoDB Lock Client", AWS Database Blog,
// https://aws.amazon.com/blogs/database/building-distributed-locks-with-the-dynamodb-lock-client/;
// "Distributed locking with the DynamoDB Lock Client" in the DynamoDB Developer Guide's
// best practices for concurrent updates), reduced to what a short critical section needs:
// no heartbeat, one lease per call. A conditional write succeeds only if the item meets its
// condition and otherwise fails with ConditionalCheckFailedException (Developer Guide,
// "Working with items", Conditional writes,
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithItems.html#WorkingWithItems.ConditionalUpdate),
// and a single write is atomic, always against the item's latest version (Developer
// Guide, "Best practices for handling concurrent updates in DynamoDB",
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/BestPractices_ImplementingVersionControl.html),
// which is what makes it a lock:
//
//   - TryLock is PutItem of {id: key, owner, leaseUntil: until in Unix ms, expiresAt}
//     with ConditionExpression `attribute_not_exists(id) OR leaseUntil < :now OR #o =
//     :owner`. A failed
//     condition (ConditionalCheckFailedException) is the answer false; any other error is
//     returned with the key and table.
//   - Unlock is DeleteItem of id: key with ConditionExpression `#o = :owner` (OWNER is a
//     DynamoDB reserved word, hence the name placeholder). A failed condition, including
//     on a missing item, is nil.
//
// expiresAt (Unix seconds, until plus one hour) is for the table's Time to Live, which
// deletes items whose lease ended long ago. It is housekeeping and never correctness: TTL
// deletes expired items only "within a few days of their expiration time", and until then
// an expired item is still there for reads and conditions (Developer Guide, "Using time to
// live (TTL) in DynamoDB", https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html),
// so the condition compares leaseUntil itself. Enable TTL on attribute expiresAt.
//
// # Limits a caller must respect
//
//   - A lease is not a fence. A holder that stalls past until can still write after
//     someone else has taken the key over, so a holder must finish its write well before
//     until (bound its context's deadline by until), and leases should be much longer than
//     the write takes.
//   - now comes from the caller's clock. Callers on different hosts must agree on the time
//     to within a small part of a lease (the AWS Lock Client avoids this by timing leases
//     locally; these leases trade that for one round trip per call).
//
// # The client
//
// DynamoDB speaks the two operations over the AWS JSON 1.0 protocol (package awsjson,
// which package secrets uses too), signed with the SDK's SigV4 signer, for the reason
// package secrets does: the SDK's DynamoDB client
// carries every operation and the endpoint rules engine into each Lambda binary
// (e2e/lambdart checks what the binaries link). A transport error, throttling or a 5xx is
// retried (three attempts), which the owner condition makes safe. dynamotest is a fake
// endpoint whose own tests drive it with the SDK's client, so the wire shape this client
// writes is the SDK's.
package lock
