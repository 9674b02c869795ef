package anon

import (
	"context"
	"crypto/sha1" //nolint:gosec // RFC 9562 name-based UUIDs (version 5) are defined on SHA-1; not a security use
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/changebank/anonuser/shared/faclient"
)

// PasswordSet reports whether the stub's password was set after its address was: the
// proof that someone read the address. A stub is created with a random password nobody
// knows, and only a set-password link sent to its address can change it. The proof
// compares the password's instant with DataAddressPassword, the stub's own
// passwordLastUpdateInstant recorded in the same write that gave it its address (when no
// link for it could exist yet), and not with insertInstant: FusionAuth stamps the
// password some milliseconds after the insert (hashing time; 27-140 ms in the captures
// of fusionauth-issues #824 and FusionAuth's blog, "an implementation detail" in #2048),
// so a fresh stub's password is always "later" than its insert. FusionAuth moves
// passwordLastUpdateInstant when a password is set (pinned on both targets by the
// contract test TestPasswordAndLoginInstants). A stub without the record never asked
// for an address it holds, so it proved none. passwordLastUpdateInstant is returned on
// reads but is not in the search index, so this is decided per user, after a read.
func PasswordSet(u faclient.User) bool {
	at, recorded := instantOf(u.Data[DataAddressPassword])
	return recorded && u.PasswordLastUpdateInstant > at
}

// LoggedIn reports whether the stub logged in after it proved its address. FusionAuth
// records a login when a user is created with a password (fusionauth-issues #1312,
// "working as designed": lastLoginInstant is the insert instant), so a stub's
// lastLoginInstant is never absent; but with its random password nobody can log in as
// a stub before its link set a new one, so only a login since that password counts
// (in the same millisecond too: the creation login is before the first password
// instant, so it can never be one).
func LoggedIn(u faclient.User) bool {
	return PasswordSet(u) && u.LastLoginInstant >= u.PasswordLastUpdateInstant
}

// ProvedAddress reports whether a stub proved its current address: it has one, and its
// password was set through a link after that address was set (PasswordSet). A stub's
// address never changes once set (a change of address moves the profile to a fresh
// stub; a released address is never set again on the same stub).
func ProvedAddress(u faclient.User) bool {
	anonymous, _ := u.Data[DataAnonymous].(bool)
	return anonymous && u.Email != "" && PasswordSet(u)
}

// instantOf reads an epoch-ms JSON number from user.data.
func instantOf(v any) (int64, bool) {
	switch n := v.(type) {
	case float64:
		return int64(n), true
	case int64:
		return n, true
	case int:
		return int64(n), true
	}
	return 0, false
}

// NeverAskedForAddress reports whether a stub may take its first address in place: it
// has none, never asked for one (no emailPendingSince, which is set once per profile)
// and never had one released. No link for any address can exist for it. Any other stub
// moves to a fresh one for a new address, taken or free alike, so that the visitor
// cannot tell the two apart by whether their profile moved.
func NeverAskedForAddress(u faclient.User) bool {
	_, pending := u.Data[DataEmailPending]
	_, released := u.Data[DataEmailReleasedAt]
	return u.Email == "" && !pending && !released
}

// MovedID is the id of the stub a profile moves to when stub userID asks for address:
// a name-based UUID (version 5, RFC 9562) in the namespace of the old id. A request that
// lost a race to move the profile to the same address finds the new stub by it, and a
// move interrupted after creating it is resumed rather than repeated.
func MovedID(userID, address string) string {
	ns, _ := hex.DecodeString(strings.ReplaceAll(userID, "-", "")) // a ValidUserID: 16 bytes
	h := sha1.New()                                                //nolint:gosec // see the import
	h.Write(ns)
	h.Write([]byte(address))
	u := h.Sum(nil)[:16]
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// Convert makes a stub that proved its address a regular user, once it has logged in:
// its random username goes, data.anonymousUser becomes false, data.convertedAt is set
// and the pending marks are cleared, in one update under the profile's lease, so a
// visit counted at the same moment is neither lost nor undoes it. The webhook calls it
// on FusionAuth's user.login.success, and the sign-in callback; prune's reconciliation
// (Reconcile) makes the same change after checking the login itself. The caller knows
// the user logged in (the event, the callback; FusionAuth runs the webhook before it
// stores the login, so the user as read here may not show it yet); Convert checks the
// proof of the address itself, so a login that proved nothing (which a stub's random
// credentials make impossible anyway) converts nothing. Repeating it changes nothing. A
// user deleted meanwhile is nothing to convert, not an error. It reports whether this
// call converted the user. Errors: ErrContended, ErrUnavailable.
func Convert(ctx context.Context, up *Updater, userID string, at time.Time) (bool, error) {
	return updateIf(ctx, up, userID, func(u faclient.User) (Edit, bool) { return convertEdit(u, at) })
}

// convertEdit is Convert's change: nothing unless the stub proved its address.
func convertEdit(u faclient.User, at time.Time) (Edit, bool) {
	if !ProvedAddress(u) {
		return Edit{}, false
	}
	data := u.Data
	data[DataAnonymous] = false
	data[DataConvertedAt] = at.UnixMilli()
	delete(data, DataEmailPending)
	delete(data, DataEmailRequested)
	delete(data, DataAddressPassword)
	var ops []faclient.PatchOperation
	if u.Username != "" {
		ops = append(ops, faclient.PatchOperation{Op: "remove", Path: "/user/username"})
	}
	return Edit{Data: data, Ops: ops}, true
}

// CompleteConversion converts the stub userID after FusionAuth reported its login
// (Convert, with this Converter's clock). Errors: ErrContended, ErrUnavailable.
func (c *Converter) CompleteConversion(ctx context.Context, userID string) (bool, error) {
	return Convert(ctx, c.updates, userID, c.now())
}

// Release takes back an address a stub asked for before cutoff and never proved, so
// that its owner can use it: the address (if the stub holds it), the asked-for address,
// its password record and emailPendingSince go, and data.emailReleasedAt is set (the
// profile's next address then moves to a fresh stub, killing any link still outstanding
// for this one). A stub that set a password through its link (and so may have logged
// in) is never released, nor a user that is not a stub any more or asked later than
// cutoff: those are read fresh here, since passwordLastUpdateInstant is not searchable.
// It reports whether it released.
// Errors: ErrContended, ErrUnavailable.
func Release(ctx context.Context, up *Updater, userID string, cutoff, at time.Time) (bool, error) {
	return updateIf(ctx, up, userID, func(u faclient.User) (Edit, bool) {
		if !Releasable(u, cutoff) {
			return Edit{}, false
		}
		data := u.Data
		delete(data, DataEmailPending)
		delete(data, DataEmailRequested)
		delete(data, DataAddressPassword)
		data[DataEmailReleasedAt] = at.UnixMilli()
		var ops []faclient.PatchOperation
		if u.Email != "" {
			ops = append(ops, faclient.PatchOperation{Op: "remove", Path: "/user/email"})
		}
		return Edit{Data: data, Ops: ops}, true
	})
}

// Releasable reports whether Release would release u's address: a stub that asked for
// one before cutoff and did not prove it.
func Releasable(u faclient.User, cutoff time.Time) bool {
	anonymous, _ := u.Data[DataAnonymous].(bool)
	since, asked := instantOf(u.Data[DataEmailPending])
	return anonymous && asked && since < cutoff.UnixMilli() && !PasswordSet(u)
}

// Reconcile converts the stub userID if it proved its address and logged in since: its
// login webhook failed (FusionAuth sends it once and forgets), so prune converts it. A
// stub that did not, or a user gone meanwhile, is left alone. It reports whether it
// converted. Errors: ErrContended, ErrUnavailable.
func Reconcile(ctx context.Context, up *Updater, userID string, at time.Time) (bool, error) {
	return updateIf(ctx, up, userID, func(u faclient.User) (Edit, bool) {
		if !LoggedIn(u) {
			return Edit{}, false
		}
		return convertEdit(u, at)
	})
}

// updateIf runs an update whose decide may decline (false) on the user as
// read, and reports whether the write it decided on happened. A user gone meanwhile is
// nothing done, not an error.
func updateIf(ctx context.Context, up *Updater, userID string, decide func(u faclient.User) (Edit, bool)) (bool, error) {
	acted := false
	_, err := up.Update(ctx, userID, func(u faclient.User) (Edit, error) {
		var edit Edit
		edit, acted = decide(u)
		return edit, nil
	})
	if errors.Is(err, ErrGone) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return acted, nil
}
