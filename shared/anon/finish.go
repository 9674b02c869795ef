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

// PasswordSet reports whether the user's password changed after it was created. A stub
// is created with a random password nobody knows, and only a set-password link sent to
// its address can change it, so for a stub this means: someone proved they read the
// stub's address. FusionAuth stamps a new user's insertInstant and
// passwordLastUpdateInstant with the same instant (its User API example; pinned on both
// targets by the contract test TestPasswordAndLoginInstants), and moves
// passwordLastUpdateInstant when a password is set. It is returned on reads but is not
// in the search index, so this is decided per user, after a read.
func PasswordSet(u faclient.User) bool {
	return u.PasswordLastUpdateInstant > u.InsertInstant
}

// ProvedAddress reports whether a stub proved its current address: it has one, and its
// password was set through a link after that address was set. A stub's address never
// changes once set (a change of address moves the profile to a fresh stub; a released
// address is never set again on the same stub), so "after the stub was created" is
// "after its address was set" (PasswordSet).
func ProvedAddress(u faclient.User) bool {
	anonymous, _ := u.Data[DataAnonymous].(bool)
	return anonymous && u.Email != "" && PasswordSet(u)
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
// and the pending marks are cleared, in one test-and-set update, so a visit counted at
// the same moment is neither lost nor undoes it. It is the one conversion: the webhook
// calls it on FusionAuth's user.login.success, prune's reconciliation for stubs that
// logged in while the webhook failed, and the sign-in callback. The caller knows the
// user logged in (the event, lastLoginInstant, the callback); Convert checks the proof
// of the address itself, so a login that proved nothing (which a stub's random
// credentials make impossible anyway) converts nothing. Repeating it changes nothing. A
// user deleted meanwhile is nothing to convert, not an error. It reports whether this
// call converted the user. Errors: ErrContended, ErrUnavailable.
func Convert(ctx context.Context, up *Updater, userID string, at time.Time) (bool, error) {
	return updateIf(ctx, up, userID, func(u faclient.User) (Edit, bool) {
		if !ProvedAddress(u) {
			return Edit{}, false
		}
		data := u.Data
		data[DataAnonymous] = false
		data[DataConvertedAt] = at.UnixMilli()
		delete(data, DataEmailPending)
		delete(data, DataEmailRequested)
		var ops []faclient.PatchOperation
		if u.Username != "" {
			ops = append(ops, faclient.PatchOperation{Op: "remove", Path: "/user/username"})
		}
		return Edit{Data: data, Ops: ops}, true
	})
}

// CompleteConversion converts the stub userID after FusionAuth reported its login
// (Convert, with this Converter's clock). Errors: ErrContended, ErrUnavailable.
func (c *Converter) CompleteConversion(ctx context.Context, userID string) (bool, error) {
	return Convert(ctx, c.updates, userID, c.now())
}

// Release takes back an address a stub asked for before cutoff and never proved, so
// that its owner can use it: the address (if the stub holds it), the asked-for address
// and emailPendingSince go, and data.emailReleasedAt is set (the profile's next address
// then moves to a fresh stub, killing any link still outstanding for this one). A stub
// that set a password or logged in is never released, nor a user that is not a stub
// any more or asked later than cutoff: those are read fresh here, since
// passwordLastUpdateInstant is not searchable. It reports whether it released.
// Errors: ErrContended, ErrUnavailable.
func Release(ctx context.Context, up *Updater, userID string, cutoff, at time.Time) (bool, error) {
	return updateIf(ctx, up, userID, func(u faclient.User) (Edit, bool) {
		anonymous, _ := u.Data[DataAnonymous].(bool)
		since, asked := u.Data[DataEmailPending].(float64)
		if !anonymous || !asked || int64(since) >= cutoff.UnixMilli() || PasswordSet(u) || u.LastLoginInstant > 0 {
			return Edit{}, false
		}
		data := u.Data
		delete(data, DataEmailPending)
		delete(data, DataEmailRequested)
		data[DataEmailReleasedAt] = at.UnixMilli()
		var ops []faclient.PatchOperation
		if u.Email != "" {
			ops = append(ops, faclient.PatchOperation{Op: "remove", Path: "/user/email"})
		}
		return Edit{Data: data, Ops: ops}, true
	})
}

// updateIf runs a test-and-set update whose decide may decline (false) on the user as
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
