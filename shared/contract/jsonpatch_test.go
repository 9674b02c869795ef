package contract_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/changebank/anonuser/shared/faclient"
)

// TestJSONPatchTestAndSet: PATCH /api/user/{id} with application/json-patch+json
// (RFC 6902) applies the document as one unit, and its test operations are checked
// against the user as the request read it: a test that finds another value is
// FusionAuth's 400 [JSONPatchTestFailed] (prime-mvc's BaseJacksonContentHandler) and
// changes nothing; a passing test lets the rest apply. It is not a compare-and-set
// against concurrent writers (TestConcurrentGuardedPatches). The RFC's test cannot test absence (a test of a
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

// TestConcurrentGuardedPatches: two PATCHes that test the same read and write
// different values can both answer 200, and the later write wins: FusionAuth applies a
// patch to the user as loaded at the start of the request and stores it later without
// a lock (fusionauth-issues #3206, open; only the identity-provider API has optimistic
// locking, answering 409). On the stand-in both PATCHes are held after their read until
// the other has read too, so the race is certain; on a real FusionAuth they are sent
// together, and whether both passed is logged, not asserted (the window is the
// server's). Either way no answer is other than 200, a failed test or 409.
func TestConcurrentGuardedPatches(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		e := tg.open(t)
		ctx := context.Background()
		u := e.createUser(t, faclient.UserRequest{User: faclient.User{Username: "race-" + randomHex(6), Password: testPassword, Data: map[string]any{"watchCount": 1}}}).User
		if e.compat() {
			var read sync.WaitGroup
			read.Add(2)
			e.srv.AfterPatchRead(func(id string) {
				if id == u.ID {
					read.Done()
					read.Wait() // both have read before either writes
				}
			})
			t.Cleanup(func() { e.srv.AfterPatchRead(nil) })
		}
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Go(func() {
				_, errs[i] = e.admin.PatchUserJSONPatch(ctx, u.ID, []faclient.PatchOperation{
					{Op: "test", Path: "/user/lastUpdateInstant", Value: u.LastUpdateInstant},
					{Op: "test", Path: "/user/data", Value: u.Data},
					{Op: "replace", Path: "/user/data/watchCount", Value: 10 + i},
				})
			})
		}
		wg.Wait()
		both := true
		for i, err := range errs {
			if err != nil {
				both = false
				if fe, ok := errors.AsType[*faclient.Error](err); !ok || !faclient.IsPatchTestFailed(err) {
					t.Errorf("PATCH %d: %v (%v), want 200, a failed test or 409", i, err, fe)
				}
			}
		}
		got, err := e.admin.RetrieveUser(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		count := got.User.Data["watchCount"]
		if c := fmt.Sprint(count); c != "10" && c != "11" {
			t.Errorf("watchCount after the race = %v, want one of the writes (10 or 11)", count)
		}
		if e.compat() && !both {
			t.Errorf("on the stand-in: answers %v, want both 200 (the test is checked against each request's own read)", errs)
		}
		t.Logf("both guarded PATCHes answered 200: %v; watchCount %v", both, count)
	})
}
