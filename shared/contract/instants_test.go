package contract_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/changebank/anonuser/shared/faclient"
)

// TestPasswordAndLoginInstants pins what conversion and prune rest on (anon.PasswordSet,
// prune's queries): a created user's passwordLastUpdateInstant equals its insertInstant;
// writes that carry no password (a data PATCH, a JSON Patch, an email change) leave it
// alone; a change-password through a forgot-password id moves it past insertInstant;
// lastLoginInstant is absent until the first login, then set, and searchable with an
// exists query (it is in the user index; passwordLastUpdateInstant is not, so it is only
// read per user).
func TestPasswordAndLoginInstants(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		e := tg.open(t)
		ctx := context.Background()
		email := uniqueEmail("instants")
		u := e.createUser(t, faclient.UserRequest{User: faclient.User{Email: email, Password: testPassword, Data: map[string]any{"watchCount": 1}}}).User
		if u.PasswordLastUpdateInstant != u.InsertInstant || u.LastLoginInstant != 0 {
			t.Fatalf("created: passwordLastUpdateInstant %d, insertInstant %d, lastLoginInstant %d; want the first two equal and no login",
				u.PasswordLastUpdateInstant, u.InsertInstant, u.LastLoginInstant)
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
		if got := read(); got.PasswordLastUpdateInstant != u.InsertInstant || got.LastUpdateInstant <= u.LastUpdateInstant {
			t.Errorf("after writes without a password: passwordLastUpdateInstant %d (want %d), lastUpdateInstant %d (want it moved)",
				got.PasswordLastUpdateInstant, u.InsertInstant, got.LastUpdateInstant)
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
		if changed.PasswordLastUpdateInstant <= changed.InsertInstant || changed.LastLoginInstant != 0 {
			t.Errorf("after change-password: passwordLastUpdateInstant %d, insertInstant %d, lastLoginInstant %d; want the first later and still no login",
				changed.PasswordLastUpdateInstant, changed.InsertInstant, changed.LastLoginInstant)
		}
		pass()
		if _, err := e.admin.Login(ctx, faclient.LoginRequest{LoginID: "moved-" + email, Password: newPassword}); err != nil {
			t.Fatalf("login: %v", err)
		}
		loggedIn := read()
		if loggedIn.LastLoginInstant <= changed.PasswordLastUpdateInstant {
			t.Errorf("after login: lastLoginInstant %d, want it set after the password (%d)", loggedIn.LastLoginInstant, changed.PasswordLastUpdateInstant)
		}
		refreshSearchIndex(t, e)
		found, err := e.admin.SearchUsersByQuery(ctx, faclient.SearchRequest{Search: faclient.UserSearchCriteria{Query: fmt.Sprintf(
			`{"bool":{"filter":[{"term":{"id":%q}},{"exists":{"field":"lastLoginInstant"}}]}}`, u.ID)}})
		if err != nil || found.Total != 1 {
			t.Errorf("search for the user with lastLoginInstant: %v, total %v; want it found", err, found)
		}
	})
}
