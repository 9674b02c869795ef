package clocktest_test

import (
	"testing"
	"time"

	"github.com/changebank/anonuser/shared/clocktest"
)

func TestClockMovesOnlyWhenTold(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := clocktest.New(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("Now=%v, want %v", got, start)
	}
	time.Sleep(time.Millisecond)
	if got := c.Now(); !got.Equal(start) {
		t.Errorf("the clock moved by itself: %v", got)
	}
	if got := c.Advance(90 * time.Minute); !got.Equal(start.Add(90*time.Minute)) || !c.Now().Equal(got) {
		t.Errorf("Advance returned %v, Now %v; want %v", got, c.Now(), start.Add(90*time.Minute))
	}
	c.Advance(-2 * time.Hour)
	if got := c.Now(); !got.Equal(start.Add(-30 * time.Minute)) {
		t.Errorf("after going back: %v", got)
	}
	c.Set(start)
	if got := c.Now(); !got.Equal(start) {
		t.Errorf("after Set: %v", got)
	}
}
