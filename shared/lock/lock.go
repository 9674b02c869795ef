package lock

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// checkLock rejects a TryLock that no implementation can answer sensibly, so that both
// fail the same way before any I/O: a lease with no key or owner, or one that would end
// before it starts.
func checkLock(ctx context.Context, key, owner string, now, until time.Time) error {
	if err := checkUnlock(ctx, key, owner); err != nil {
		return err
	}
	if now.IsZero() {
		return fmt.Errorf("lock %q: now is the zero time", key)
	}
	if until.UnixMilli() <= now.UnixMilli() {
		return fmt.Errorf("lock %q: lease until %s does not end after now %s (milliseconds)",
			key, until.Format(time.RFC3339Nano), now.Format(time.RFC3339Nano))
	}
	return nil
}

// checkUnlock is checkLock's part for Unlock; it also reports a context already done,
// as the SDK would.
func checkUnlock(ctx context.Context, key, owner string) error {
	if key == "" {
		return errors.New("lock: empty key")
	}
	if owner == "" {
		return fmt.Errorf("lock %q: empty owner", key)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("lock %q: %w", key, err)
	}
	return nil
}
