package limit

import (
	"container/list"
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/changebank/anonuser/shared/awsjson"
)

// DynamoDB counts events in a DynamoDB table, one item per client and window (see the
// package doc for the item, the condition and the cost). It is safe for concurrent use,
// within and across processes.
type DynamoDB struct {
	table   *awsjson.Table
	refused *refusals
}

// DynamoDBOptions configure a DynamoDB limits table.
type DynamoDBOptions = awsjson.TableOptions

// maxRefusals bounds the refusals a DynamoDB remembers.
const maxRefusals = 10_000

// NewDynamoDB returns the limits table o names.
func NewDynamoDB(o DynamoDBOptions) (*DynamoDB, error) {
	// The answer is {} (ReturnValues NONE) or an error of a few hundred bytes.
	t, err := awsjson.NewTable("dynamodb limits", o, 1<<12)
	if err != nil {
		return nil, err
	}
	return &DynamoDB{table: t, refused: newRefusals(maxRefusals)}, nil
}

// Error is an error answer from DynamoDB.
type Error = awsjson.Error

// ttlGrace is how long after its window ends an item stays for TTL to delete.
const ttlGrace = time.Hour

// Allow counts one event for client under rule in the window containing now with one
// conditional UpdateItem, which DynamoDB refuses once rule.Max events are counted: Allow
// then reports false, counts nothing, and remembers the refusal until the window ends, so
// that the client's further events in it are refused without a call. Any other failure
// is false and an error naming the rule and the table.
func (d *DynamoDB) Allow(ctx context.Context, rule Rule, client string, now time.Time) (bool, error) {
	start, end, err := window(ctx, rule, client, now)
	if err != nil {
		return false, err
	}
	// The rule's name has no '#' and the start none, so the id names one rule, client
	// and window, whatever the client holds.
	id := rule.Name + "#" + client + "#" + strconv.FormatInt(start.Unix(), 10)
	if d.refused.has(id) {
		return false, nil
	}
	err = d.table.Do(ctx, "UpdateItem", map[string]any{
		"Key":                      map[string]any{"id": awsjson.S(id)},
		"UpdateExpression":         "ADD #h :one SET #e = :exp",
		"ConditionExpression":      "attribute_not_exists(#h) OR #h < :max",
		"ExpressionAttributeNames": map[string]string{"#h": "hits", "#e": "expiresAt"},
		"ExpressionAttributeValues": map[string]any{
			":one": awsjson.N(1),
			":exp": awsjson.N(end.Add(ttlGrace).Unix()),
			":max": awsjson.N(int64(rule.Max)),
		},
	})
	if awsjson.ConditionFailed(err) {
		d.refused.add(id, end, now)
		return false, nil
	}
	if err != nil {
		// Not the client: it may be personal data (an address, an account), and the
		// rule and table are what an operator needs.
		return false, fmt.Errorf("limit %q: update item in DynamoDB table %s: %w", rule.Name, d.table.Name(), err)
	}
	return true, nil
}

// refusals remembers the windows (by item id) in which DynamoDB refused a client, until
// they end: at most capacity of them, dropping ended windows first and then the oldest
// refusals. It is safe for concurrent use.
type refusals struct {
	mu       sync.Mutex
	capacity int
	byID     map[string]*list.Element // of order
	order    *list.List               // of refusal, oldest first
	// sweepAt is when the earliest remembered window ends: before it, none has ended and
	// a full set need not be searched for one (Unix ns).
	sweepAt int64
}

type refusal struct {
	id  string
	end int64 // the window's end, Unix ns
}

func newRefusals(capacity int) *refusals {
	return &refusals{capacity: capacity, byID: make(map[string]*list.Element), order: list.New()}
}

// has reports whether id's window holds a refusal. The id names the window containing
// the caller's now, so a remembered refusal for it has not ended.
func (r *refusals) has(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.byID[id]
	return ok
}

// add remembers a refusal in id's window, which ends at end; now is the caller's time.
func (r *refusals) add(id string, end, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.byID[id]; ok {
		return
	}
	if len(r.byID) >= r.capacity && now.UnixNano() >= r.sweepAt {
		r.sweep(now.UnixNano())
	}
	if len(r.byID) >= r.capacity {
		oldest := r.order.Front()
		r.order.Remove(oldest)
		delete(r.byID, oldest.Value.(refusal).id)
	}
	e := end.UnixNano()
	r.byID[id] = r.order.PushBack(refusal{id: id, end: e})
	if len(r.byID) == 1 || e < r.sweepAt {
		r.sweepAt = e
	}
}

// sweep drops the refusals whose window ended by now (Unix ns) and notes when the
// earliest of the others ends. The caller holds r.mu.
func (r *refusals) sweep(now int64) {
	r.sweepAt = 1<<63 - 1
	for el := r.order.Front(); el != nil; {
		next := el.Next()
		if f := el.Value.(refusal); f.end <= now {
			r.order.Remove(el)
			delete(r.byID, f.id)
		} else {
			r.sweepAt = min(r.sweepAt, f.end)
		}
		el = next
	}
}
