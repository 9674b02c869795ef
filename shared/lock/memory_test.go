package lock

import (
	"fmt"
	"testing"
	"time"
)

func (m *Memory) size() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.leases)
}

// TestMemorySweep checks when TryLock drops expired leases and which it keeps.
func TestMemorySweep(t *testing.T) {
	ctx := t.Context()
	end := t0.Add(time.Minute)
	m := NewMemory()
	// minSweep-1 leases that end before `end`, and one that ends exactly at `end`.
	for i := range minSweep - 1 {
		if ok, err := m.TryLock(ctx, fmt.Sprint("old-", i), "a", t0, end.Add(-time.Millisecond)); !ok || err != nil {
			t.Fatalf("TryLock old-%d=(%v, %v), want (true, nil)", i, ok, err)
		}
	}
	if ok, err := m.TryLock(ctx, "edge", "a", t0, end); !ok || err != nil {
		t.Fatalf("TryLock edge=(%v, %v), want (true, nil)", ok, err)
	}
	if n := m.size(); n != minSweep {
		t.Fatalf("size before the sweep=%d, want %d (nothing dropped yet)", n, minSweep)
	}

	// The map has reached minSweep: this TryLock sweeps at `end`.
	if ok, err := m.TryLock(ctx, "new", "b", end, end.Add(time.Minute)); !ok || err != nil {
		t.Fatalf("TryLock new=(%v, %v), want (true, nil)", ok, err)
	}
	if n := m.size(); n != 2 {
		t.Errorf("size after the sweep=%d, want 2 (edge, live at its last millisecond, and new)", n)
	}
	if ok, _ := m.TryLock(ctx, "edge", "b", end, end.Add(time.Minute)); ok {
		t.Errorf("edge was swept or taken while its lease was live at now")
	}
	if m.sweepAt != minSweep {
		t.Errorf("sweepAt=%d, want %d", m.sweepAt, minSweep)
	}
}

// TestMemoryPrunes checks that the map stays small when every lease expires, and that
// live leases are kept however many there are.
func TestMemoryPrunes(t *testing.T) {
	ctx := t.Context()
	m := NewMemory()
	if ok, err := m.TryLock(ctx, "long", "a", t0, t0.Add(24*time.Hour)); !ok || err != nil {
		t.Fatalf("TryLock long=(%v, %v), want (true, nil)", ok, err)
	}
	// 1000 short leases, each over before the next starts.
	for i := range 1000 {
		now := t0.Add(time.Duration(i) * time.Second)
		if ok, err := m.TryLock(ctx, fmt.Sprint("short-", i), "a", now, now.Add(time.Millisecond)); !ok || err != nil {
			t.Fatalf("TryLock short-%d=(%v, %v), want (true, nil)", i, ok, err)
		}
		if n := m.size(); n > minSweep {
			t.Fatalf("after %d short leases: size=%d, want at most %d", i+1, n, minSweep)
		}
	}
	if ok, _ := m.TryLock(ctx, "long", "b", t0.Add(time.Hour), t0.Add(2*time.Hour)); ok {
		t.Errorf("the live lease was swept")
	}

	// Live leases are never dropped; the sweep threshold doubles past them.
	m = NewMemory()
	for i := range 100 {
		if ok, err := m.TryLock(ctx, fmt.Sprint("live-", i), "a", t0, t0.Add(time.Hour)); !ok || err != nil {
			t.Fatalf("TryLock live-%d=(%v, %v), want (true, nil)", i, ok, err)
		}
	}
	if n := m.size(); n != 100 || m.sweepAt != 2*minSweep {
		t.Errorf("size=%d, sweepAt=%d, want 100 and %d", n, m.sweepAt, 2*minSweep)
	}
	for i := range 100 {
		if ok, _ := m.TryLock(ctx, fmt.Sprint("live-", i), "b", t0.Add(time.Minute), t0.Add(time.Hour)); ok {
			t.Fatalf("live-%d was dropped", i)
		}
	}
}

func BenchmarkMemoryTryLock(b *testing.B) {
	m := NewMemory()
	i := 0
	for b.Loop() {
		now := t0.Add(time.Duration(i) * time.Millisecond)
		if _, err := m.TryLock(b.Context(), fmt.Sprint("k", i%1000), "a", now, now.Add(100*time.Millisecond)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
