package anon

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/changebank/anonuser/shared/faclient"
)

// DataMergedStubs lists, on an account, the stubs already merged into it (newest
// last, at most maxMergedStubs): a merge that is repeated (a replayed callback, a
// retry after the stub's delete failed) finds its stub here and adds nothing twice.
const DataMergedStubs = "mergedStubs"

// maxMergedStubs bounds DataMergedStubs. A merged stub is deleted right after the
// merge, so only a stub whose delete failed can come back, and only soon.
const maxMergedStubs = 20

// mergeAttempts bounds the test-and-set retries of a merge when other writes (the
// person's visits on another device) keep changing the account.
const mergeAttempts = 5

var _ AccountStore = (*faclient.Client)(nil)

// AccountStore is what signing in needs from FusionAuth: read and patch users, apply a
// JSON Patch test-and-set, delete a merged stub.
type AccountStore interface {
	userStore
	// PatchUserJSONPatch applies a JSON Patch document as one unit. Errors: 400
	// [JSONPatchTestFailed] when a test operation found another value, 404, 401.
	PatchUserJSONPatch(ctx context.Context, userID string, ops []faclient.PatchOperation) (*faclient.UserResponse, error)
	// DeleteUser deletes a user for good. Errors: 404, 401.
	DeleteUser(ctx context.Context, userID string) error
}

// Accounts settles a visitor's anonymous profile when the person signs in.
type Accounts struct {
	fa    AccountStore
	conv  *Converter
	sleep func(time.Duration)
}

// NewAccounts returns Accounts over fa; conv completes conversions (the same function
// the webhook calls, so either may come first).
func NewAccounts(fa AccountStore, conv *Converter) *Accounts {
	return &Accounts{fa: fa, conv: conv, sleep: time.Sleep}
}

// Settled says what happened to the visitor's stub at sign-in.
type Settled int

const (
	// NothingToSettle: the stub is gone, or is itself an account other than the one
	// that signed in (nothing anonymous to carry over).
	NothingToSettle Settled = iota
	// Converted: the stub is the account that signed in, and is a stub no more.
	Converted
	// Merged: the stub's profile was added to the account and the stub deleted.
	Merged
)

// SignedIn settles the stub stubID that the visitor's anonymous cookie names, now that
// accountID signed in. When they are the same user the conversion completes here (as
// the webhook would; whichever comes second changes nothing). When they differ the
// person proved they own accountID and holds stubID's cookie: the stub merges into the
// account (Merge). Either way the anonymous cookie has done its job and the caller
// clears it. Errors: ErrUnavailable.
func (a *Accounts) SignedIn(ctx context.Context, accountID, stubID string) (Settled, error) {
	if stubID == accountID {
		if _, err := a.conv.CompleteConversion(ctx, stubID); err != nil {
			return NothingToSettle, err
		}
		return Converted, nil
	}
	merged, err := a.Merge(ctx, stubID, accountID)
	if err != nil || !merged {
		return NothingToSettle, err
	}
	return Merged, nil
}

// Merge adds the stub stubID's profile to the account accountID and deletes the stub:
// watchCount is summed; the stub's own markers (anonymousUser, emailPendingSince,
// convertedAt) are not carried over. The account is changed by test-and-set on its
// lastUpdateInstant, so a visit counted on another device at the same moment is not
// lost, and the stub's id is recorded on the account in the same write, so a repeated
// merge adds nothing twice. Four FusionAuth calls without contention (read stub, read
// account, patch account, delete stub). It reports false, changing nothing, when the
// stub is gone or is not a stub. Errors: ErrGone (the account is gone), ErrUnavailable.
func (a *Accounts) Merge(ctx context.Context, stubID, accountID string) (bool, error) {
	stub, err := readActive(ctx, a.fa, stubID)
	if errors.Is(err, ErrGone) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if anonymous, _ := stub.Data[DataAnonymous].(bool); !anonymous {
		return false, nil
	}
	add := ProfileOf(stub).WatchCount
	err = a.testAndSet(ctx, accountID, func(account faclient.User) []faclient.PatchOperation {
		merged := stringsOf(account.Data[DataMergedStubs])
		if slices.Contains(merged, stubID) {
			return nil // merged before: only the delete is left to do
		}
		merged = append(merged, stubID)
		if len(merged) > maxMergedStubs {
			merged = merged[len(merged)-maxMergedStubs:]
		}
		count := ProfileOf(account).WatchCount + add
		if account.Data == nil {
			return []faclient.PatchOperation{{Op: "add", Path: "/user/data", Value: map[string]any{DataWatchCount: count, DataMergedStubs: merged}}}
		}
		return []faclient.PatchOperation{
			{Op: "add", Path: "/user/data/" + DataWatchCount, Value: count},
			{Op: "add", Path: "/user/data/" + DataMergedStubs, Value: merged},
		}
	})
	if err != nil {
		return false, err
	}
	if err := a.fa.DeleteUser(ctx, stubID); err != nil && !errors.Is(fusionAuthError(err, ""), ErrGone) {
		// The account holds the count and names the stub: the next sign-in with this
		// cookie deletes it without adding again, and prune deletes it if nobody does.
		return true, fusionAuthError(err, "delete merged stub "+stubID)
	}
	return true, nil
}

// testAndSet is the read-modify-write of one user: read it, let change compute the
// operations from what it read (nil: nothing to do), and apply them behind a test of
// the user's lastUpdateInstant, which any other write moves, so a concurrent write is
// never overwritten; when the test fails, read again and recompute, at most
// mergeAttempts times, with a short growing pause. Errors: ErrGone, ErrUnavailable.
//
// It is written against the client's PatchUserJSONPatch and IsPatchTestFailed
// directly, to be swapped for the project's shared test-and-set helper.
func (a *Accounts) testAndSet(ctx context.Context, userID string, change func(faclient.User) []faclient.PatchOperation) error {
	for attempt := range mergeAttempts {
		u, err := readActive(ctx, a.fa, userID)
		if err != nil {
			return err
		}
		ops := change(u)
		if len(ops) == 0 {
			return nil
		}
		ops = append([]faclient.PatchOperation{{Op: "test", Path: "/user/lastUpdateInstant", Value: u.LastUpdateInstant}}, ops...)
		_, err = a.fa.PatchUserJSONPatch(ctx, userID, ops)
		if err == nil {
			return nil
		}
		if !faclient.IsPatchTestFailed(err) {
			return fusionAuthError(err, "merge into user "+userID)
		}
		a.sleep(time.Duration(attempt+1) * 10 * time.Millisecond)
	}
	return fmt.Errorf("%w: user %s kept changing during %d merge attempts", ErrUnavailable, userID, mergeAttempts)
}

// stringsOf reads a JSON array of strings; anything else is empty.
func stringsOf(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list)+1)
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
