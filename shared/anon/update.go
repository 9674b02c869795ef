package anon

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/changebank/anonuser/shared/backoff"
	"github.com/changebank/anonuser/shared/faclient"
)

// Edit is what a Change wants written to a user, relative to the user it was given.
// The zero Edit writes nothing.
type Edit struct {
	// Data is the whole new user.data; nil leaves data as it is. A Change may build it by
	// modifying the Data of the user it was given, which is its own copy.
	Data map[string]any
	// Ops are further JSON Patch operations on the request document (paths start with
	// /user), e.g. {remove /user/username}. They apply after Data, in one unit with it.
	Ops []faclient.PatchOperation
}

func (e Edit) empty() bool { return e.Data == nil && len(e.Ops) == 0 }

// Change computes an Edit from a user as just read. Update may call it more than once,
// each time with a fresh read, so it must decide from u alone (or from what it saw in an
// earlier call, which is how a caller learns that someone else wrote first); it must not
// have side effects outside its closure. An error stops the update and is returned as is.
type Change func(u faclient.User) (Edit, error)

// Updater applies read-modify-write changes to users, one writer per profile at a time:
// every Update holds the profile's lease (Locks) from its read to its write. FusionAuth
// has no increment, no transactions and no compare-and-set (a JSON Patch test is checked
// against the user as read at the start of the request, and the write follows without a
// lock: fusionauth-issues #3206), so the lease is what keeps two writers from both
// writing from the same read. The write is still a JSON Patch whose first operations
// test that the user is as read, which catches writers that hold no lease (FusionAuth
// itself when a password is set, an administrator); such a write is re-read and
// re-applied. It is safe for concurrent use.
//
// Every read-modify-write of profile data goes through Update: the visit count
// (Service.RecordWatch), the email-send log and address of a conversion request
// (Converter.RequestConversion), the conversion marks (CompleteConversion), prune's
// release of an unproven address, and merging a stub into an account at sign-in (add
// the stub's watchCount to the account's in a Change; the stub is deleted after the
// account's write succeeded).
type Updater struct {
	fa       ProfileStore
	locks    Locks
	wall     func() time.Time // the leases' clock: the machine's, since leases are shared between machines
	lockWait time.Duration    // how long a writer waits for a busy profile
	attempts int
	backoff  time.Duration // the first retry waits up to this long; each later one twice as long
	maxWait  time.Duration
}

// NewUpdater returns an Updater over fa whose writers take their leases from locks. Its
// retry bounds: a busy lease and an overtaken write are retried after a random wait up
// to a bound that doubles from 2 ms to 256 ms (full jitter); a writer waits at most
// lockWait for a busy profile and makes at most twenty attempts at its write before the
// change is given up (ErrContended).
func NewUpdater(fa ProfileStore, locks Locks) *Updater {
	return &Updater{fa: fa, locks: locks, wall: time.Now, lockWait: lockWait, attempts: 20, backoff: 2 * time.Millisecond, maxWait: 256 * time.Millisecond}
}

// Update takes userID's lease (unless the caller holds it: Exclusive), reads the user,
// asks change for an Edit and writes it guarded by two tests: the user's
// lastUpdateInstant and its whole user.data are as read. A guard that fails means a
// writer without the lease came first: Update waits a little (random, growing), re-reads
// and calls change again. An uncontended update is two FusionAuth calls (read, patch)
// and two lock calls (take, release); an empty Edit is one FusionAuth call (read).
//
// Why both tests: RFC 6902's test cannot test that a key is absent (a test of a missing
// path is refused as [invalidJSON], not failed), so user.data is tested as a whole,
// which fails when any key was added, removed or changed; and lastUpdateInstant, which
// FusionAuth moves on every write, also guards the user's other fields (email, username)
// and a user without data. Either alone is weaker: lastUpdateInstant has millisecond
// resolution, so two writes within one millisecond would pass its test; data alone
// misses writes that leave data as it was. FusionAuth compares numbers by value in a
// test (java-json-tools json-patch, RFC 6902 section 4.6), so 3 and 3.0 are equal.
//
// It returns the user as written (or as read, for an empty Edit). Errors: ErrGone (an
// id that is not a user id, like "", with no call at all; no
// such user, or deactivated), ErrContended (the profile stayed busy, or the attempts ran
// out), the change's own error, and what a refused write means (ErrTaken,
// ErrInvalidEmail, ErrUnavailable; a failing lock store is ErrUnavailable too).
func (up *Updater) Update(ctx context.Context, userID string, change Change) (faclient.User, error) {
	return up.update(ctx, userID, nil, change)
}

// update is Update starting from read, the user as just read, when the caller has it
// and holds the lease since (Exclusive; or it just created the user, whose id nobody
// else knows yet), saving a read; nil reads first.
func (up *Updater) update(ctx context.Context, userID string, read *faclient.User, change Change) (faclient.User, error) {
	if !ValidUserID(userID) {
		return faclient.User{}, ErrGone // no such user in FusionAuth: ask nothing, lease nothing
	}
	var written faclient.User
	err := up.Exclusive(ctx, userID, func(ctx context.Context) error {
		var err error
		written, err = up.write(ctx, userID, read, change)
		return err
	})
	return written, err
}

// write is update's read-modify-write, with the lease held.
func (up *Updater) write(ctx context.Context, userID string, read *faclient.User, change Change) (faclient.User, error) {
	for attempt := 0; ; attempt++ {
		var u faclient.User
		var err error
		if read != nil && attempt == 0 {
			u = *read
		} else if u, err = readActive(ctx, up.fa, userID); err != nil {
			return faclient.User{}, err
		}
		mine := u // the Change's own copy: it may modify its data
		mine.Data = cloneData(u.Data)
		edit, err := change(mine)
		if err != nil {
			return faclient.User{}, err
		}
		if edit.empty() {
			return u, nil
		}
		ops := guardOps(u)
		if edit.Data != nil {
			op := "replace"
			if u.Data == nil {
				op = "add"
			}
			ops = append(ops, faclient.PatchOperation{Op: op, Path: "/user/data", Value: edit.Data})
		}
		ops = append(ops, edit.Ops...)
		patched, err := up.fa.PatchUserJSONPatch(ctx, userID, ops)
		if err == nil {
			return patched.User, nil
		}
		if !faclient.IsPatchTestFailed(err) {
			return faclient.User{}, fusionAuthError(err, "update user "+userID)
		}
		if attempt+1 >= up.attempts {
			return u, fmt.Errorf("%w: user %s: %d attempts overtaken by writes without the lease", ErrContended, userID, up.attempts)
		}
		if err := backoff.Sleep(ctx, backoff.FullJitter(up.backoff, up.maxWait, attempt)); err != nil {
			return faclient.User{}, fmt.Errorf("%w: update user %s: %w", ErrUnavailable, userID, err)
		}
	}
}

// guardOps are the tests that the user is still as read: its lastUpdateInstant, and its
// whole data when it has any, as read (a Change only ever modifies its own copy).
func guardOps(u faclient.User) []faclient.PatchOperation {
	ops := []faclient.PatchOperation{{Op: "test", Path: "/user/lastUpdateInstant", Value: u.LastUpdateInstant}}
	if u.Data != nil {
		ops = append(ops, faclient.PatchOperation{Op: "test", Path: "/user/data", Value: u.Data})
	}
	return ops
}

// cloneData deep-copies user.data (JSON values only), so a Change may modify its copy.
func cloneData(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out, _ := cloneJSON(m).(map[string]any)
	return out
}

func cloneJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = cloneJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneJSON(e)
		}
		return out
	case json.Number, string, float64, bool, nil, int, int64:
		return x
	}
	// Not a decoded JSON value: keep it (it is marshalled as it is).
	return v
}
