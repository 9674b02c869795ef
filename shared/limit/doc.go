// Package limit holds fixed-window per-client rate limits: a Rule allows at most Max
// events per client in each window of Per. Both implementations satisfy Limiter:
//
//	Allow(ctx, rule, client, now) (bool, error)
//
// Memory is a mutex-guarded map for local runs and tests. DynamoDB keeps one item per
// rule, client and window in a DynamoDB table, so that every Lambda execution environment
// counts against the same limit.
//
// # Semantics (the same for both)
//
//   - Windows are aligned to the Unix epoch: the window containing now starts at the
//     largest multiple of Per since 1970-01-01T00:00:00Z that is not after now, and ends
//     Per later (exclusive). now comes from the caller (inject a clock), so callers on
//     different hosts must agree on the time to within a small part of Per.
//   - Allow counts one event and reports true while the window holds fewer than Max
//     events; then it reports false and counts nothing, so a refused client's window
//     never holds more than Max.
//   - A fixed window is the cheapest limit to keep (one counter per window, no history)
//     and the coarsest: up to 2·Max events can pass within Per across a window's end
//     (Max at the end of one, Max at the start of the next). Choose Max and Per with
//     that in mind; a sliding window would cost a read or more items per event.
//   - An invalid rule (Rule.Validate), an empty client, a now outside the years 1678 to
//     2262 (the zero time among them) or a context already done is an error, before any
//     I/O. An error always comes with false: the caller decides whether to fail open.
//
// # The DynamoDB item and its condition
//
// Allow is one UpdateItem of the item with key id = rule.Name + "#" + client + "#" +
// window start in Unix seconds (a rule's name has no '#', so the id is unambiguous):
//
//	UpdateExpression    ADD #h :one SET #e = :exp        (#h hits, #e expiresAt)
//	ConditionExpression attribute_not_exists(#h) OR #h < :max
//
// ADD creates the item, or the attribute, with the value when it is absent, and adds to
// a number otherwise (Developer Guide, "Update expressions", ADD; "atomic counters"),
// so the first event of a window needs no separate put. The condition makes the count a
// limit: DynamoDB evaluates it against the item as it is and refuses the write with
// ConditionalCheckFailedException when it does not hold, and a single-item write is
// atomic (Developer Guide, "Condition expressions"; "Best practices for handling
// concurrent updates in DynamoDB"), so concurrent Allows from any number of
// processes let exactly Max through. A failed condition is the answer false; any other
// error is returned naming the rule and the table (not the client, which may be
// personal data).
//
// expiresAt (Unix seconds, the window's end plus one hour) is for the table's Time to
// Live, which deletes expired items only "within a few days of their expiration time"
// (Developer Guide, "Using time to live (TTL) in DynamoDB"). It is housekeeping, never
// correctness: a window's id names its start, so an ended window's item is never
// counted again whether TTL has deleted it or not. Enable TTL on attribute expiresAt.
//
// # Cost
//
// One write per allowed event, and none for a remembered refusal: when DynamoDB refuses
// a client, the DynamoDB value remembers that window in process memory until it ends
// (at most 10,000 windows, dropping ended ones first, then the oldest), so a flood from
// one client costs one refused write per execution environment and window, not one per
// request. A refused conditional write still consumes write capacity, which is why the
// refusal is remembered. Each write is an update of an item under 1 KB: one write
// request unit on demand (Developer Guide, "DynamoDB read and write operations").
//
// # The client
//
// DynamoDB speaks UpdateItem over the AWS JSON 1.0 protocol through package awsjson,
// signed with the SDK's SigV4 signer, for the reason package lock does (the SDK's
// DynamoDB client would carry every operation into each Lambda binary), with a 2 s
// timeout per attempt. A transport error, throttling or a 5xx is retried (three
// attempts). ADD is not idempotent, so a retry after a lost answer may count an event
// twice: the limit then errs towards refusing, never towards letting more than Max in.
// Its tests run against package lock's dynamotest, whose own tests drive it with the
// SDK's client.
package limit
