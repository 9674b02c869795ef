// Package backoff spaces out the retries of a call that failed in a way worth trying
// again: the randomised, growing wait before each retry, and a wait that the caller's
// context cuts short. The FusionAuth client, the Secrets Manager client and the domain's
// writes and profile leases (anon.Updater) retry with it.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// FullJitter returns the wait before retry attempt+1 (attempt counts from 0) with "full
// jitter": uniform in [0, bound), the bound doubling from base with each attempt up to
// ceiling. base and ceiling must be positive. Spreading the waits over the whole range
// keeps callers that failed together from retrying together.
func FullJitter(base, ceiling time.Duration, attempt int) time.Duration {
	bound := ceiling
	if attempt < 63 && base <= ceiling>>attempt { // base<<attempt, without overflowing
		bound = base << attempt
	}
	return rand.N(bound) //nolint:gosec // spreading retries, not a secret
}

// Sleep waits d, or less when ctx ends first; then it returns ctx.Err().
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
