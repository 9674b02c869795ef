package backoff

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestFullJitterStaysBelowTheDoublingBound(t *testing.T) {
	const base, ceiling = 2 * time.Millisecond, 256 * time.Millisecond
	tests := []struct {
		attempt int
		bound   time.Duration
	}{
		{0, 2 * time.Millisecond},
		{1, 4 * time.Millisecond},
		{3, 16 * time.Millisecond},
		{7, 256 * time.Millisecond},
		{8, 256 * time.Millisecond},  // capped
		{40, 256 * time.Millisecond}, // base<<40 would not overflow yet; still capped
		{70, 256 * time.Millisecond}, // a shift past the word: capped, no panic
	}
	for _, tt := range tests {
		var most time.Duration
		for range 2000 {
			d := FullJitter(base, ceiling, tt.attempt)
			if d < 0 || d >= tt.bound {
				t.Fatalf("FullJitter(attempt %d) = %v, want in [0, %v)", tt.attempt, d, tt.bound)
			}
			most = max(most, d)
		}
		// Full jitter uses the whole range: 2000 draws all below half of it would mean
		// a smaller bound (probability 2^-2000).
		if most < tt.bound/2 {
			t.Errorf("FullJitter(attempt %d): largest of 2000 waits %v, want some at or above %v", tt.attempt, most, tt.bound/2)
		}
	}
}

func TestSleepEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep(cancelled ctx) = %v, want context.Canceled", err)
	}
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatalf("Sleep(1ms) = %v, want nil", err)
	}
}
