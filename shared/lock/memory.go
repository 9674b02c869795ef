// Package lock holds per-key leases: the one writer per FusionAuth profile at a time
// that package anon's Updater needs, because FusionAuth has no compare-and-set on a user
// PATCH (fusionauth-issues #3206). Memory serves one process (the local stack, tests);
// DynamoDB serves every Lambda function of a deployment.
package lock

import (
	"context"
	"sync"
	"time"
)

// Memory is an in-process lease table. It is safe for concurrent use.
type Memory struct {
	mu     sync.Mutex
	leases map[string]lease
}

type lease struct {
	owner string
	until time.Time
}

// NewMemory returns an empty lease table.
func NewMemory() *Memory { return &Memory{leases: map[string]lease{}} }

// TryLock takes key for owner until `until` if no one holds it, the holder's lease
// ended before now, or owner holds it already (the lease is then extended), as
// DynamoDB's does; it answers false when someone else holds a live lease.
// Expired leases are dropped as it goes, so the table holds only live ones and those
// that ended since the last sweep.
func (m *Memory) TryLock(_ context.Context, key, owner string, now, until time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if l, held := m.leases[key]; held && l.owner != owner && !l.until.Before(now) {
		return false, nil
	}
	if len(m.leases) >= 64 {
		for k, l := range m.leases {
			if l.until.Before(now) {
				delete(m.leases, k)
			}
		}
	}
	m.leases[key] = lease{owner: owner, until: until}
	return true, nil
}

// Unlock releases key if owner still holds it; a lease someone else took over is left
// alone.
func (m *Memory) Unlock(_ context.Context, key, owner string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if l, held := m.leases[key]; held && l.owner == owner {
		delete(m.leases, key)
	}
	return nil
}

// Len is how many leases the table holds, live or not yet swept.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.leases)
}
