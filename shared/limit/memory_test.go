package limit

import (
	"fmt"
	"testing"
	"time"
)

// TestMemoryBounded: the map drops ended windows, so after many windows it holds no
// more than minSweep entries or twice those of the live windows.
func TestMemoryBounded(t *testing.T) {
	m := NewMemory()
	r := Rule{Name: "r", Max: 1, Per: time.Second}
	for i := range 10_000 {
		now := t0.Add(time.Duration(i) * time.Second)
		for c := range 3 {
			allow(t, m, r, fmt.Sprint("client-", c), now)
		}
		if n := len(m.counts); n > minSweep {
			t.Fatalf("after %d windows of 3 clients: %d entries, want at most %d", i+1, n, minSweep)
		}
	}

	// Many clients live at once are kept (they are counting), and dropped when their
	// window ends.
	for c := range 1000 {
		allow(t, m, r, fmt.Sprint("many-", c), t0.Add(time.Hour))
	}
	for c := range 1000 {
		if allow(t, m, r, fmt.Sprint("many-", c), t0.Add(time.Hour)) {
			t.Fatalf("many-%d: a second event in its window allowed, want refused (its count dropped?)", c)
		}
	}
	allow(t, m, r, "late", t0.Add(2*time.Hour))
	for range 2 * minSweep {
		allow(t, m, r, "late", t0.Add(2*time.Hour))
	}
	if n := len(m.counts); n > 2*1000+1 {
		t.Errorf("%d entries, want at most %d", n, 2*1000+1)
	}
	// Once those windows have ended, one client a window for many windows: the thousand
	// are dropped at the next doubling, and the map stays small again.
	for i := range 3000 {
		allow(t, m, r, "later", t0.Add(3*time.Hour+time.Duration(i)*time.Second))
	}
	if n := len(m.counts); n > minSweep {
		t.Errorf("after 3000 more windows of one client: %d entries, want at most %d", n, minSweep)
	}
}

// TestMemorySweep: a sweep drops the windows that ended by now (exactly at now too) and
// waits for the map to double before the next.
func TestMemorySweep(t *testing.T) {
	m := NewMemory()
	r := Rule{Name: "r", Max: 1, Per: time.Minute}
	for c := range 100 {
		allow(t, m, r, fmt.Sprint("client-", c), t0)
	}
	end := time.Date(2026, 5, 1, 12, 1, 0, 0, time.UTC).UnixNano()
	m.sweep(end - 1)
	if n := len(m.counts); n != 100 || m.sweepAt != 200 {
		t.Errorf("sweep before the end: %d entries, next sweep at %d, want 100 and 200", n, m.sweepAt)
	}
	m.sweep(end)
	if n := len(m.counts); n != 0 || m.sweepAt != minSweep {
		t.Errorf("sweep at the end: %d entries, next sweep at %d, want 0 and %d", n, m.sweepAt, minSweep)
	}
}
