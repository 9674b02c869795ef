package contract_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/changebank/anonuser/shared/faclient"
)

// TestPasswordAndLoginInstants pins what conversion and prune rest on (anon.PasswordSet,
// anon.LoggedIn, prune's queries). A user created with a password has logged in:
// FusionAuth records a login at creation (fusionauth-issues #1312, "working as
// designed"; the User API's create response carries lastLoginInstant), the insert
// instant. Its passwordLastUpdateInstant is stamped after hashing, a little after the
// insert (27-140 ms in FusionAuth's published captures, #824), so it is never a proof
// of anything by itself. Writes that carry no password (a data PATCH, a JSON Patch, an
// email change) leave both alone; a change-password through a forgot-password id moves
// the password instant and records no login; a login moves lastLoginInstant past it.
// lastLoginInstant is in the user index from creation on (exists finds it);
// passwordLastUpdateInstant is not, so it is only read per user.
func TestPasswordAndLoginInstants(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		e := tg.open(t)
		ctx := context.Background()
		email := uniqueEmail("instants")
		u := e.createUser(t, faclient.UserRequest{User: faclient.User{Email: email, Password: testPassword, Data: map[string]any{"watchCount": 1}}}).User
		if u.LastLoginInstant != u.InsertInstant || u.PasswordLastUpdateInstant <= u.InsertInstant || u.PasswordLastUpdateInstant > u.InsertInstant+5_000 {
			t.Fatalf("created: insertInstant %d, lastLoginInstant %d, passwordLastUpdateInstant %d; want the login at the insert and the password a little after it",
				u.InsertInstant, u.LastLoginInstant, u.PasswordLastUpdateInstant)
		}
		if read, err := e.admin.RetrieveUser(ctx, u.ID); err != nil || read.User.PasswordLastUpdateInstant != u.PasswordLastUpdateInstant || read.User.LastLoginInstant != u.LastLoginInstant {
			t.Fatalf("read after create: %v, %+v; want the create answer's instants (the baseline anon records is read from it)", err, read)
		}
		refreshSearchIndex(t, e)
		found, err := e.admin.SearchUsersByQuery(ctx, faclient.SearchRequest{Search: faclient.UserSearchCriteria{Query: fmt.Sprintf(
			`{"bool":{"filter":[{"term":{"id":%q}},{"exists":{"field":"lastLoginInstant"}}]}}`, u.ID)}})
		if err != nil || found.Total != 1 {
			t.Errorf("search for the new user with lastLoginInstant: %v, total %v; want it found (the creation login is indexed)", err, found)
		}
		pass := func() {
			if e.compat() {
				e.advance(2 * time.Second)
			} else {
				time.Sleep(5 * time.Millisecond) // let the server's millisecond clock move
			}
		}
		pass()
		if _, err := e.admin.PatchUser(ctx, u.ID, map[string]any{"user": map[string]any{"data": map[string]any{"watchCount": 2}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.admin.PatchUserJSONPatch(ctx, u.ID, []faclient.PatchOperation{{Op: "replace", Path: "/user/email", Value: "moved-" + email}}); err != nil {
			t.Fatal(err)
		}
		read := func() faclient.User {
			t.Helper()
			got, err := e.admin.RetrieveUser(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got.User
		}
		if got := read(); got.PasswordLastUpdateInstant != u.PasswordLastUpdateInstant || got.LastLoginInstant != u.LastLoginInstant || got.LastUpdateInstant <= u.LastUpdateInstant {
			t.Errorf("after writes without a password: passwordLastUpdateInstant %d (want %d), lastLoginInstant %d (want %d), lastUpdateInstant %d (want it moved)",
				got.PasswordLastUpdateInstant, u.PasswordLastUpdateInstant, got.LastLoginInstant, u.LastLoginInstant, got.LastUpdateInstant)
		}
		pass()
		no := false
		fp, err := e.admin.ForgotPassword(ctx, faclient.ForgotPasswordRequest{LoginID: "moved-" + email, SendForgotPasswordEmail: &no})
		if err != nil {
			t.Fatalf("forgot password: %v", err)
		}
		const newPassword = "a-password-set-by-link-4"
		if _, err := e.client(t, "").ChangePassword(ctx, fp.ChangePasswordID, faclient.ChangePasswordRequest{Password: newPassword}); err != nil {
			t.Fatalf("change password: %v", err)
		}
		changed := read()
		if changed.PasswordLastUpdateInstant <= u.PasswordLastUpdateInstant || changed.LastLoginInstant != u.LastLoginInstant {
			t.Errorf("after change-password: passwordLastUpdateInstant %d (was %d), lastLoginInstant %d (was %d); want the first moved and no login recorded",
				changed.PasswordLastUpdateInstant, u.PasswordLastUpdateInstant, changed.LastLoginInstant, u.LastLoginInstant)
		}
		pass()
		if _, err := e.admin.Login(ctx, faclient.LoginRequest{LoginID: "moved-" + email, Password: newPassword}); err != nil {
			t.Fatalf("login: %v", err)
		}
		loggedIn := read()
		if loggedIn.LastLoginInstant <= changed.PasswordLastUpdateInstant {
			t.Errorf("after login: lastLoginInstant %d, want it set after the password (%d)", loggedIn.LastLoginInstant, changed.PasswordLastUpdateInstant)
		}
	})
}
