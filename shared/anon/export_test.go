package anon

import "time"

// Test access for the package's external tests (compiled into tests only).

// WithoutWaits returns a copy of up that retries at once instead of after the jittered
// waits (up to about 4 s over twenty attempts), and gives up on a busy lease at once: the tests of giving up count the
// attempts, which the waits do not change, and must not sleep through them, since the
// mutation run repeats them for every mutant.
func (up *Updater) WithoutWaits() *Updater {
	c := *up
	c.backoff, c.maxWait, c.lockWait = time.Nanosecond, time.Nanosecond, time.Microsecond
	return &c
}

// WithoutWaits returns a copy of a whose test-and-set retries at once (Updater.WithoutWaits).
func (a *Accounts) WithoutWaits() *Accounts {
	c := *a
	c.updates = c.updates.WithoutWaits()
	return &c
}

// WithoutWaits returns a copy of s whose updates retry at once (Updater.WithoutWaits).
func (s *Service) WithoutWaits() *Service {
	c := *s
	c.updates = c.updates.WithoutWaits()
	return &c
}
