package contract_test

import (
	"context"
	"net/http"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/changebank/anonuser/shared/faclient"
)

// TestJSONPatchTestAndSet: PATCH /api/user/{id} with application/json-patch+json
// (RFC 6902) applies the document as one unit, and its test operation is a
// compare-and-set: a test that finds another value is FusionAuth's 400
// [JSONPatchTestFailed] (prime-mvc's BaseJacksonContentHandler) and changes nothing; a
// passing test lets the rest apply. The RFC's test cannot test absence (a test of a
// missing key is a 400 [invalidJSON], not a failed test), so a key that may be absent
// is guarded by testing the user's lastUpdateInstant instead.
func TestJSONPatchTestAndSet(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		count := func(n any) []faclient.PatchOperation {
			return []faclient.PatchOperation{
				{Op: "test", Path: "/user/data/watchCount", Value: n},
				{Op: "replace", Path: "/user/data/watchCount", Value: 7},
			}
		}
		tests := map[string]struct {
			ops            func(u faclient.User) []faclient.PatchOperation
			wantTestFailed bool
			wantCode       string                              // another refusal's general error code
			wantData       map[string]any                      // after a success
			email          bool                                // the user also has an email
			check          func(t *testing.T, u faclient.User) // more about the user after a success
		}{
			"passing test, then replace": {
				ops:      func(faclient.User) []faclient.PatchOperation { return count(3) },
				wantData: map[string]any{"watchCount": 7, "flag": false, "zero": 0},
			},
			"failed test changes nothing": {
				ops:            func(faclient.User) []faclient.PatchOperation { return count(2) },
				wantTestFailed: true,
			},
			"failed test after a replace changes nothing": {
				ops: func(faclient.User) []faclient.PatchOperation {
					return []faclient.PatchOperation{
						{Op: "replace", Path: "/user/data/watchCount", Value: 9},
						{Op: "test", Path: "/user/data/flag", Value: true},
					}
				},
				wantTestFailed: true,
			},
			"test for 0 and false": {
				ops: func(faclient.User) []faclient.PatchOperation {
					return []faclient.PatchOperation{
						{Op: "test", Path: "/user/data/zero", Value: 0},
						{Op: "test", Path: "/user/data/flag", Value: false},
						{Op: "add", Path: "/user/data/added", Value: "yes"},
					}
				},
				wantData: map[string]any{"watchCount": 3, "flag": false, "zero": 0, "added": "yes"},
			},
			"lastUpdateInstant guards an absent key": {
				ops: func(u faclient.User) []faclient.PatchOperation {
					return []faclient.PatchOperation{
						{Op: "test", Path: "/user/lastUpdateInstant", Value: u.LastUpdateInstant},
						{Op: "add", Path: "/user/data/mergedCount", Value: 1},
					}
				},
				wantData: map[string]any{"watchCount": 3, "flag": false, "zero": 0, "mergedCount": 1},
			},
			"stale lastUpdateInstant fails the test": {
				ops: func(u faclient.User) []faclient.PatchOperation {
					return []faclient.PatchOperation{
						{Op: "test", Path: "/user/lastUpdateInstant", Value: u.LastUpdateInstant - 1},
						{Op: "add", Path: "/user/data/mergedCount", Value: 1},
					}
				},
				wantTestFailed: true,
			},
			"a test of the whole data object, then replace it": {
				ops: func(u faclient.User) []faclient.PatchOperation {
					return []faclient.PatchOperation{
						{Op: "test", Path: "/user/lastUpdateInstant", Value: u.LastUpdateInstant},
						{Op: "test", Path: "/user/data", Value: map[string]any{"zero": 0.0, "flag": false, "watchCount": 3}},
						{Op: "replace", Path: "/user/data", Value: map[string]any{"watchCount": 4}},
					}
				},
				wantData: map[string]any{"watchCount": 4},
			},
			"a test of the whole data object fails on an added key": {
				ops: func(u faclient.User) []faclient.PatchOperation {
					return []faclient.PatchOperation{
						{Op: "test", Path: "/user/data", Value: map[string]any{"watchCount": 3, "flag": false}},
						{Op: "replace", Path: "/user/data", Value: map[string]any{"watchCount": 4}},
					}
				},
				wantTestFailed: true,
			},
			"remove the username of a user with an email": {
				email: true,
				ops: func(u faclient.User) []faclient.PatchOperation {
					return []faclient.PatchOperation{
						{Op: "test", Path: "/user/lastUpdateInstant", Value: u.LastUpdateInstant},
						{Op: "remove", Path: "/user/username"},
					}
				},
				wantData: map[string]any{"watchCount": 3, "flag": false, "zero": 0},
				check: func(t *testing.T, u faclient.User) {
					if u.Username != "" || u.Email == "" {
						t.Errorf("username %q email %q, want the username gone and the email kept", u.Username, u.Email)
					}
				},
			},
			"remove the email of a user with a username": {
				email: true,
				ops: func(u faclient.User) []faclient.PatchOperation {
					return []faclient.PatchOperation{{Op: "remove", Path: "/user/email"}}
				},
				wantData: map[string]any{"watchCount": 3, "flag": false, "zero": 0},
				check: func(t *testing.T, u faclient.User) {
					if u.Email != "" || u.Username == "" {
						t.Errorf("email %q username %q, want the email gone and the username kept", u.Email, u.Username)
					}
				},
			},
			"a test of an absent key is not a failed test": {
				ops: func(faclient.User) []faclient.PatchOperation {
					return []faclient.PatchOperation{
						{Op: "test", Path: "/user/data/mergedCount", Value: 0},
						{Op: "add", Path: "/user/data/mergedCount", Value: 1},
					}
				},
				wantCode: "[invalidJSON]",
			},
		}
		for name, tc := range tests {
			t.Run(name, func(t *testing.T) {
				e := tg.open(t)
				ctx := context.Background()
				create := faclient.User{
					Username: "contract-" + randomHex(6), Password: testPassword,
					Data: map[string]any{"watchCount": 3, "flag": false, "zero": 0},
				}
				if tc.email {
					create.Email = create.Username + "@example.com"
				}
				before := e.createUser(t, faclient.UserRequest{User: create}).User
				if e.compat() {
					e.advance(time.Second)
				} else {
					time.Sleep(2 * time.Millisecond) // let the server's millisecond clock move
				}
				resp, err := e.admin.PatchUserJSONPatch(ctx, before.ID, tc.ops(before))
				after, rerr := e.admin.RetrieveUser(ctx, before.ID)
				if rerr != nil {
					t.Fatalf("re-read: %v", rerr)
				}
				if got := faclient.IsPatchTestFailed(err); got != tc.wantTestFailed {
					t.Fatalf("IsPatchTestFailed(%v) = %v, want %v", err, got, tc.wantTestFailed)
				}
				if tc.wantTestFailed || tc.wantCode != "" {
					if statusOf(err) != http.StatusBadRequest {
						t.Errorf("status = %d (%v), want 400", statusOf(err), err)
					}
					if tc.wantCode != "" && !slices.Contains(errorCodes(err), tc.wantCode) {
						t.Errorf("codes = %v, want %s", errorCodes(err), tc.wantCode)
					}
					if !reflect.DeepEqual(after.User.Data, before.Data) || after.User.LastUpdateInstant != before.LastUpdateInstant {
						t.Errorf("after a refused patch: data = %v, lastUpdateInstant = %d; want unchanged %v, %d",
							after.User.Data, after.User.LastUpdateInstant, before.Data, before.LastUpdateInstant)
					}
					return
				}
				if err != nil {
					t.Fatalf("patch: %v", err)
				}
				for _, got := range []map[string]any{resp.User.Data, after.User.Data} {
					if want := jsonRoundTrip(t, tc.wantData); !reflect.DeepEqual(got, want) {
						t.Errorf("data = %v, want %v", got, tc.wantData)
					}
				}
				if tc.check != nil {
					tc.check(t, resp.User)
					tc.check(t, after.User)
				}
				if after.User.LastUpdateInstant <= before.LastUpdateInstant {
					t.Errorf("lastUpdateInstant = %d, want later than %d", after.User.LastUpdateInstant, before.LastUpdateInstant)
				}
			})
		}
	})
}
