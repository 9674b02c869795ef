package lock

import (
	"context"
	"sync"
	"time"
)

// minSweep is the smallest map size at which Memory looks for expired leases to drop.
const minSweep = 64

// Memory holds leases in a map, for local runs and tests: one process only. It is safe
// for concurrent use. TryLock drops expired leases each time the map has doubled since it
// last did, so the map never holds more than twice the most leases live at once, or
// minSweep entries, whichever is more.
type Memory struct {
	mu     sync.Mutex
	leases map[string]lease
	// sweepAt is the map size at which TryLock next drops expired leases. Doubling it
	// after each sweep keeps the cost of sweeping at O(1) per TryLock on average.
	sweepAt int
}

type lease struct {
	owner string
	until int64 // Unix milliseconds, as the DynamoDB item stores it
}

// NewMemory returns an empty Memory.
func NewMemory() *Memory {
	return &Memory{leases: make(map[string]lease), sweepAt: minSweep}
}

// Len is how many leases the table holds, live or not yet swept.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.leases)
}

// TryLock takes key for owner until `until` if no one holds it, the holder's lease ended
// before now, or owner holds it already (its lease then runs until `until`). It answers
// false, nil when someone else holds a live lease. It fails only on invalid arguments or
// a context already done.
func (m *Memory) TryLock(ctx context.Context, key, owner string, now, until time.Time) (bool, error) {
	if err := checkLock(ctx, key, owner, now, until); err != nil {
		return false, err
	}
	n := now.UnixMilli()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.leases) >= m.sweepAt {
		m.sweep(n)
	}
	if l, ok := m.leases[key]; ok && l.owner != owner && l.until >= n {
		return false, nil
	}
	m.leases[key] = lease{owner: owner, until: until.UnixMilli()}
	return true, nil
}

// Unlock releases key if owner holds it. A lease someone else holds, or none, is left as
// it is, and that is not an error.
func (m *Memory) Unlock(ctx context.Context, key, owner string) error {
	if err := checkUnlock(ctx, key, owner); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if l, ok := m.leases[key]; ok && l.owner == owner {
		delete(m.leases, key)
	}
	return nil
}

// sweep drops the leases that ended before now (Unix ms) and sets the next sweep's size.
// The caller holds m.mu.
func (m *Memory) sweep(now int64) {
	for k, l := range m.leases {
		if l.until < now {
			delete(m.leases, k)
		}
	}
	m.sweepAt = max(2*len(m.leases), minSweep)
}
