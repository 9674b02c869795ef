package limit

import (
	"context"
	"sync"
	"time"
)

// minSweep is the smallest map size at which Memory looks for ended windows to drop.
const minSweep = 64

// Memory counts events in a map, for local runs and tests: one process only. It is safe
// for concurrent use. Allow drops the counts of ended windows each time the map has
// doubled since it last did, so the map never holds more than twice the counts of the
// windows live at once, or minSweep entries, whichever is more.
type Memory struct {
	mu     sync.Mutex
	counts map[memoryKey]*count
	// sweepAt is the map size at which Allow next drops ended windows. Doubling it after
	// each sweep keeps the cost of sweeping at O(1) per Allow on average.
	sweepAt int
}

// memoryKey is one client's window of one rule.
type memoryKey struct {
	rule, client string
	start        int64 // Unix nanoseconds
}

type count struct {
	hits int
	end  int64 // the window's end, Unix nanoseconds
}

// NewMemory returns an empty Memory.
func NewMemory() *Memory {
	return &Memory{counts: make(map[memoryKey]*count), sweepAt: minSweep}
}

// Allow counts one event for client under rule in the window containing now, unless
// rule.Max events are counted there already: it then reports false and counts nothing.
// It fails only on invalid arguments or a context already done.
func (m *Memory) Allow(ctx context.Context, rule Rule, client string, now time.Time) (bool, error) {
	start, end, err := window(ctx, rule, client, now)
	if err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.counts) >= m.sweepAt {
		m.sweep(now.UnixNano())
	}
	k := memoryKey{rule: rule.Name, client: client, start: start.UnixNano()}
	c, ok := m.counts[k]
	if !ok {
		c = &count{end: end.UnixNano()}
		m.counts[k] = c
	}
	if c.hits >= rule.Max {
		return false, nil
	}
	c.hits++
	return true, nil
}

// sweep drops the counts of windows that ended by now (Unix ns) and sets the next
// sweep's size. The caller holds m.mu.
func (m *Memory) sweep(now int64) {
	for k, c := range m.counts {
		if c.end <= now {
			delete(m.counts, k)
		}
	}
	m.sweepAt = max(2*len(m.counts), minSweep)
}
