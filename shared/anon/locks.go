package anon

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/changebank/anonuser/shared/backoff"
)

// Locks are per-profile leases (package lock: DynamoDB in AWS, in memory locally). They
// are what makes a read-modify-write of a profile safe on FusionAuth, which has no
// compare-and-set: a JSON Patch test is evaluated against the user as read at the start
// of the PATCH request and the write follows without a lock, so two concurrent guarded
// PATCHes can both answer 200 and the later one wins (fusionauth-issues #3206). Every
// write of profile data therefore happens while its writer holds the profile's lease.
type Locks interface {
	// TryLock takes key for owner until `until` if no one holds it or the holder's lease
	// ended before now. It answers false, nil when someone else holds a live lease.
	TryLock(ctx context.Context, key, owner string, now, until time.Time) (bool, error)
	// Unlock releases key if owner still holds it.
	Unlock(ctx context.Context, key, owner string) error
}

// Lease bounds. A holder stops working (its context ends) leaseMargin before its lease
// does, so the next holder never overlaps a slow one; a holder that dies leaves a lease
// that ends by itself. Leases are on the wall clock: they are shared between machines.
const (
	leaseFor    = 10 * time.Second
	leaseMargin = 2 * time.Second
	lockWait    = 6 * time.Second // how long a writer waits for a busy profile before ErrContended
	unlockFor   = 2 * time.Second // how long releasing may take after the work's own context ended
)

// heldKey marks, in a context, the profiles whose lease the caller holds, so that an
// Update nested in Exclusive for the same profile does not wait for itself.
type heldKey struct{}

type held struct {
	id     string
	parent *held
}

func holds(ctx context.Context, id string) bool {
	for h, _ := ctx.Value(heldKey{}).(*held); h != nil; h = h.parent {
		if h.id == id {
			return true
		}
	}
	return false
}

// Exclusive runs fn holding the lease on profile userID: no other writer of that
// profile (an Update, another Exclusive) runs until fn returns. Updates of userID inside
// fn use the lease already held. fn's context ends before the lease does. Errors:
// ErrContended (the profile stayed busy), ErrUnavailable (the lock store failed), and
// fn's own.
func (up *Updater) Exclusive(ctx context.Context, userID string, fn func(ctx context.Context) error) error {
	if holds(ctx, userID) {
		return fn(ctx)
	}
	owner, err := RandomString(22)
	if err != nil {
		return err
	}
	start, err := up.acquire(ctx, userID, owner)
	if err != nil {
		return err
	}
	work, cancel := context.WithDeadline(context.WithValue(ctx, heldKey{}, &held{id: userID, parent: parentHeld(ctx)}), start.Add(leaseFor-leaseMargin))
	defer cancel()
	defer up.release(ctx, userID, owner)
	return fn(work)
}

func parentHeld(ctx context.Context) *held {
	h, _ := ctx.Value(heldKey{}).(*held)
	return h
}

// acquire waits for the lease on userID, retrying a busy one with growing random waits
// for up to lockWait. It returns when the lease was taken (the lease runs leaseFor from
// then).
func (up *Updater) acquire(ctx context.Context, userID, owner string) (time.Time, error) {
	deadline := up.wall().Add(up.lockWait)
	for attempt := 0; ; attempt++ {
		now := up.wall()
		ok, err := up.locks.TryLock(ctx, "profile#"+userID, owner, now, now.Add(leaseFor))
		if err != nil {
			return time.Time{}, fmt.Errorf("%w: lock profile %s: %w", ErrUnavailable, userID, err)
		}
		if ok {
			return now, nil
		}
		wait := backoff.FullJitter(up.backoff, up.maxWait, attempt)
		if now.Add(wait).After(deadline) {
			return time.Time{}, fmt.Errorf("%w: profile %s stayed locked by other writers for %s", ErrContended, userID, up.lockWait)
		}
		if err := backoff.Sleep(ctx, wait); err != nil {
			return time.Time{}, fmt.Errorf("%w: lock profile %s: %w", ErrUnavailable, userID, err)
		}
	}
}

// release gives the lease back, even when ctx has ended. If it fails the lease ends by
// itself within leaseFor; that is logged here, not returned, since the work is done.
func (up *Updater) release(ctx context.Context, userID, owner string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), unlockFor)
	defer cancel()
	if err := up.locks.Unlock(ctx, "profile#"+userID, owner); err != nil {
		slog.WarnContext(ctx, "profile lock not released; it expires by itself", "userId", userID, "error", err)
	}
}
