package anon

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/changebank/anonuser/shared/faclient"
)

// DataMergedStubs lists, on an account, the stubs already merged into it (newest
// last, at most maxMergedStubs): a merge that is repeated (a replayed callback, a
// retry after the stub's delete failed) finds its stub here and adds nothing twice.
const DataMergedStubs = "mergedStubs"

// maxMergedStubs bounds DataMergedStubs. A merged stub is deleted right after the
// merge, so only a stub whose delete failed can come back, and only soon.
const maxMergedStubs = 20

var _ AccountStore = (*faclient.Client)(nil)

// AccountStore is what signing in needs from FusionAuth: read and test-and-set users
// (ProfileStore, for Updater), and delete a merged stub.
type AccountStore interface {
	ProfileStore
	// DeleteUser deletes a user for good. Errors: 404, 401.
	DeleteUser(ctx context.Context, userID string) error
}

// Accounts settles a visitor's anonymous profile when the person signs in.
type Accounts struct {
	fa      AccountStore
	conv    *Converter
	updates *Updater
}

// NewAccounts returns Accounts over fa; conv completes conversions (the same function
// the webhook calls, so either may come first), and its profile leases are the ones
// merges take.
func NewAccounts(fa AccountStore, conv *Converter) *Accounts {
	return &Accounts{fa: fa, conv: conv, updates: NewUpdater(fa, conv.updates.locks)}
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
	// ConvertedBefore: the stub is the account that signed in, and was converted
	// already (by the webhook, or an earlier sign-in): nothing changed here.
	ConvertedBefore
)

// SignedIn settles the stub stubID that the visitor's anonymous cookie names, now that
// accountID signed in. When they are the same user the conversion completes here (as
// the webhook would; whichever comes second changes nothing, and is ConvertedBefore). When they differ the
// person proved they own accountID and holds stubID's cookie: the stub merges into the
// account (Merge). Either way the anonymous cookie has done its job and the caller
// clears it. Errors: ErrUnavailable.
func (a *Accounts) SignedIn(ctx context.Context, accountID, stubID string) (Settled, error) {
	if stubID == accountID {
		converted, err := a.conv.CompleteConversion(ctx, stubID)
		if err != nil {
			return NothingToSettle, err
		}
		if !converted {
			return ConvertedBefore, nil
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
// every key combines by its rule in Schema (watch count and time summed, the earliest
// first visit and the latest last one kept), in the account's one write; the stub's own
// markers (anonymousUser, the email keys, convertedAt) are not carried over. The merge holds the stub's lease throughout
// (Updater.Exclusive), so a visit with the stub's cookie waits and then finds the stub
// gone, and a second merge of it finds nothing to do; the account is changed under its
// own lease, so a visit counted on another device at the same moment is not lost, and
// the stub's id is recorded on the account in the same write, so a repeated merge
// adds nothing twice. Four FusionAuth calls without contention (read stub, read
// account, patch account, delete stub), and four lock calls. It reports false, changing nothing, when the stub is gone or is
// not a stub. Errors: ErrGone (the account is gone), ErrContended (the account kept
// changing: nothing merged, the stub kept), ErrUnavailable.
func (a *Accounts) Merge(ctx context.Context, stubID, accountID string) (bool, error) {
	merged := false
	err := a.updates.Exclusive(ctx, stubID, func(ctx context.Context) error {
		var err error
		merged, err = a.merge(ctx, stubID, accountID)
		return err
	})
	return merged, err
}

// merge is Merge with the stub's lease held.
func (a *Accounts) merge(ctx context.Context, stubID, accountID string) (bool, error) {
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
	_, err = a.updates.Update(ctx, accountID, func(account faclient.User) (Edit, error) {
		merged := stringsOf(account.Data[DataMergedStubs])
		if slices.Contains(merged, stubID) {
			return Edit{}, nil // merged before: only the delete is left to do
		}
		merged = append(merged, stubID)
		if len(merged) > maxMergedStubs {
			merged = merged[len(merged)-maxMergedStubs:]
		}
		data := MergeData(account.Data, stub.Data)
		data[DataMergedStubs] = merged
		return Edit{Data: data}, nil
	})
	if err != nil {
		return false, fmt.Errorf("merge stub %s into user %s: %w", stubID, accountID, err)
	}
	if err := a.fa.DeleteUser(ctx, stubID); err != nil && !errors.Is(fusionAuthError(err, ""), ErrGone) {
		// The account holds the count and names the stub: the next sign-in with this
		// cookie deletes it without adding again, and prune deletes it if nobody does.
		return true, fusionAuthError(err, "delete merged stub "+stubID)
	}
	return true, nil
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
