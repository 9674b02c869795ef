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
//     live). It answers (false, nil) when a live lease is held, by someone else or by owner
//     itself: a lock is not re-entrant, and a holder that wants more time waits for its
//     lease to end or unlocks and locks again. Only a failure to ask is an error.
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
//     with ConditionExpression `attribute_not_exists(id) OR leaseUntil < :now`. A failed
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
//   - A PutItem the SDK retries after a lost response finds its own first attempt and
//     answers false (the lock is not re-entrant). Nobody then holds the key until that
//     lease ends: a missed turn, never two holders.
package lock
