package contract_test

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/changebank/anonuser/shared/faclient"
)

// TestCreateUser: POST /api/user answers 200 with the new user (§3): a UUID, the
// default tenant, active, email lower-cased (§2), equal insert and update instants in
// epoch ms, the data as given, a token, and never the password or its salt.
func TestCreateUser(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		tests := map[string]struct {
			user      faclient.User
			wantEmail string // "" = no email
		}{
			"email and data": {
				user: faclient.User{Email: "Create-Mixed-" + randomHex(4) + "@Example.com", Password: testPassword, FirstName: "Ada",
					Data: map[string]any{"watchCount": 1, "anonymousUser": true, "tags": []any{"a", "b"}}},
			},
			"username only": {
				user: faclient.User{Username: "contract-" + randomHex(6), Password: testPassword, Data: map[string]any{"anonymousUser": true}},
			},
		}
		for name, tc := range tests {
			t.Run(name, func(t *testing.T) {
				e := tg.open(t)
				resp := e.createUser(t, faclient.UserRequest{User: tc.user})
				u := resp.User
				if !validUUID(u.ID) {
					t.Errorf("id = %q, want a UUID", u.ID)
				}
				if want := e.variable(t, "visitorTenantId"); !strings.EqualFold(u.TenantID, want) {
					t.Errorf("tenantId = %q, want %q", u.TenantID, want)
				}
				if !u.Active {
					t.Errorf("active = false, want true")
				}
				if want := strings.ToLower(tc.user.Email); u.Email != want {
					t.Errorf("email = %q, want %q (stored lower-cased, §2)", u.Email, want)
				}
				if u.Username != tc.user.Username {
					t.Errorf("username = %q, want %q", u.Username, tc.user.Username)
				}
				if u.FirstName != tc.user.FirstName {
					t.Errorf("firstName = %q, want %q", u.FirstName, tc.user.FirstName)
				}
				if want := jsonRoundTrip(t, tc.user.Data); !reflect.DeepEqual(u.Data, want) {
					t.Errorf("data = %v, want %v", u.Data, want)
				}
				if u.InsertInstant <= 0 || u.LastUpdateInstant != u.InsertInstant {
					t.Errorf("insertInstant = %d, lastUpdateInstant = %d, want equal epoch-ms instants", u.InsertInstant, u.LastUpdateInstant)
				}
				if now := e.now().UnixMilli(); e.compat() && (u.InsertInstant < now-140 || u.InsertInstant >= now) {
					t.Errorf("insertInstant = %d, want the server clock %d less the hashing time (27–140 ms): the insert is stamped before the hash", u.InsertInstant, now)
				}
				if !e.compat() && absDuration(time.Since(time.UnixMilli(u.InsertInstant))) > time.Hour {
					t.Errorf("insertInstant = %d (%v), want about now: epoch milliseconds", u.InsertInstant, time.UnixMilli(u.InsertInstant))
				}
				if resp.Token == "" || resp.TokenExpirationInstant <= u.InsertInstant {
					t.Errorf("token = %q, tokenExpirationInstant = %d, want a token expiring after creation (§3)", resp.Token, resp.TokenExpirationInstant)
				}
				raw := decodeObject(t, e.lastExchange(t, http.MethodPost, "/api/user").Body)
				user, _ := raw["user"].(map[string]any)
				for _, secret := range []string{"password", "salt"} {
					if _, ok := user[secret]; ok {
						t.Errorf("response user has %q, want it never returned (§2)", secret)
					}
				}
				if tc.user.Email == "" {
					if _, ok := user["email"]; ok {
						t.Errorf("response user has an email key without an email, want null fields absent (§1.1)")
					}
				}
				got, err := e.admin.RetrieveUser(context.Background(), u.ID)
				if err != nil {
					t.Fatalf("retrieve created user: %v", err)
				}
				if !reflect.DeepEqual(got.User, u) {
					t.Errorf("retrieved user = %+v, want the created one %+v", got.User, u)
				}
			})
		}
	})
}

// TestRetrieveUser: by id and by email in any letter case (§4); a missing user is 404
// with an empty body.
func TestRetrieveUser(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		e := tg.open(t)
		email := uniqueEmail("retrieve")
		created := e.createUser(t, faclient.UserRequest{User: faclient.User{Email: email, Password: testPassword}}).User
		deletedID := deletedUserID(t, e)
		ctx := context.Background()
		tests := map[string]struct {
			get      func() (*faclient.UserResponse, error)
			wantID   string // "" = want 404
			wantPath string // request path prefix, to check the 404 body
		}{
			"by id":    {get: func() (*faclient.UserResponse, error) { return e.admin.RetrieveUser(ctx, created.ID) }, wantID: created.ID},
			"by email": {get: func() (*faclient.UserResponse, error) { return e.admin.RetrieveUserByEmail(ctx, email) }, wantID: created.ID},
			"by upper-case email": {get: func() (*faclient.UserResponse, error) {
				return e.admin.RetrieveUserByEmail(ctx, strings.ToUpper(email))
			}, wantID: created.ID},
			"by mixed-case email":     {get: func() (*faclient.UserResponse, error) { return e.admin.RetrieveUserByEmail(ctx, mixCase(email)) }, wantID: created.ID},
			"missing id":              {get: func() (*faclient.UserResponse, error) { return e.admin.RetrieveUser(ctx, newUUID()) }, wantPath: "/api/user/"},
			"missing email":           {get: func() (*faclient.UserResponse, error) { return e.admin.RetrieveUserByEmail(ctx, uniqueEmail("nobody")) }, wantPath: "/api/user?"},
			"deleted-then-missing id": {get: func() (*faclient.UserResponse, error) { return e.admin.RetrieveUser(ctx, deletedID) }, wantPath: "/api/user/"},
		}
		for name, tc := range tests {
			t.Run(name, func(t *testing.T) {
				got, err := tc.get()
				if tc.wantID == "" {
					if !faclient.IsNotFound(err) {
						t.Fatalf("got (%v, %v), want a 404", got, err)
					}
					if x := e.lastExchange(t, http.MethodGet, tc.wantPath); len(x.Body) != 0 {
						t.Errorf("404 body = %q, want empty (§4)", x.Body)
					}
					return
				}
				if err != nil {
					t.Fatalf("retrieve: %v", err)
				}
				if got.User.ID != tc.wantID || got.User.Email != email {
					t.Errorf("got user %s <%s>, want %s <%s>", got.User.ID, got.User.Email, tc.wantID, email)
				}
			})
		}
	})
}

// deletedUserID creates a user and hard-deletes it, returning its id.
func deletedUserID(t testing.TB, e *env) string {
	t.Helper()
	u := e.createUser(t, faclient.UserRequest{User: faclient.User{Email: uniqueEmail("deleted"), Password: testPassword}}).User
	if err := e.admin.DeleteUser(context.Background(), u.ID); err != nil {
		t.Fatalf("delete user: %v", err)
	}
	return u.ID
}

// TestCreateUserValidation: duplicates are compared case-insensitively for email and
// username (§2, §3), and a user needs an email or a username (§1.4 [blank] pair).
func TestCreateUserValidation(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		tests := map[string]struct {
			existing   *faclient.User // created first, when set
			user       func(existing *faclient.User) faclient.User
			existingID bool     // create under the existing user's id (POST /api/user/{userId})
			wantCodes  []string // all must be present, as field errors keyed by their field
		}{
			"duplicate email in other letter case": {
				existing: &faclient.User{Email: uniqueEmail("dup"), Password: testPassword},
				user: func(x *faclient.User) faclient.User {
					return faclient.User{Email: strings.ToUpper(x.Email), Password: testPassword}
				},
				wantCodes: []string{"[duplicate]user.email"},
			},
			"duplicate username in other letter case": {
				existing: &faclient.User{Username: "Contract-Dup-" + randomHex(4), Password: testPassword},
				user: func(x *faclient.User) faclient.User {
					return faclient.User{Username: strings.ToLower(x.Username), Password: testPassword}
				},
				wantCodes: []string{"[duplicate]user.username"},
			},
			"blank email and username": {
				user: func(*faclient.User) faclient.User {
					return faclient.User{Password: testPassword, Data: map[string]any{"anonymousUser": true}}
				},
				wantCodes: []string{"[blank]user.email", "[blank]user.username"},
			},
			"no password": {
				user: func(*faclient.User) faclient.User {
					return faclient.User{Email: uniqueEmail("nopassword")}
				},
				wantCodes: []string{"[blank]user.password"},
			},
			"not an email": {
				user: func(*faclient.User) faclient.User {
					return faclient.User{Email: "not-an-email-" + randomHex(4), Password: testPassword}
				},
				wantCodes: []string{"[notEmail]user.email"},
			},
			"id already taken (exact code not documented, §3)": {
				existing: &faclient.User{Email: uniqueEmail("taken"), Password: testPassword},
				user: func(*faclient.User) faclient.User {
					return faclient.User{Email: uniqueEmail("taken-again"), Password: testPassword}
				},
				existingID: true,
			},
		}
		for name, tc := range tests {
			t.Run(name, func(t *testing.T) {
				e := tg.open(t)
				var pathID string
				if tc.existing != nil {
					created := e.createUser(t, faclient.UserRequest{User: *tc.existing}).User
					tc.existing.Email, tc.existing.Username = created.Email, created.Username
					if tc.existingID {
						pathID = created.ID
					}
				}
				resp, err := e.admin.CreateUser(context.Background(), pathID, faclient.UserRequest{User: tc.user(tc.existing)})
				if err == nil {
					e.cleanupUser(t, resp.User.ID)
					t.Fatalf("create succeeded (user %s), want 400 %v", resp.User.ID, tc.wantCodes)
				}
				fe, ok := asFAError(err)
				if !ok || fe.StatusCode != http.StatusBadRequest {
					t.Fatalf("create error = %v, want a 400 FusionAuth error", err)
				}
				for _, code := range tc.wantCodes {
					field := code[strings.Index(code, "]")+1:]
					if !slices.ContainsFunc(fe.Errors.FieldErrors[field], func(d faclient.ErrorDetail) bool { return d.Code == code }) {
						t.Errorf("fieldErrors = %+v, want %q under %q", fe.Errors.FieldErrors, code, field)
					}
				}
				if slices.Contains(tc.wantCodes, "[duplicate]user.email") && !faclient.IsDuplicate(err, "user.email") {
					t.Errorf("IsDuplicate(err, user.email) = false, want true")
				}
				if slices.Contains(tc.wantCodes, "[duplicate]user.username") && !faclient.IsDuplicate(err, "user.username") {
					t.Errorf("IsDuplicate(err, user.username) = false, want true")
				}
			})
		}
	})
}

// TestPatchUser: an application/json PATCH merges into the user (user.data siblings
// kept, nested objects merged), null removes a field, the email is lower-cased, and
// lastUpdateInstant moves forward (§1.6, §5).
func TestPatchUser(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		baseData := map[string]any{"watchCount": 1, "anonymousUser": true, "nested": map[string]any{"x": 1, "y": 2}}
		newEmail := uniqueEmail("Patched-MIXED")
		tests := map[string]struct {
			patch          map[string]any
			wantData       map[string]any
			wantFirstName  string // "" = the key must be absent
			wantEmail      string // "" = unchanged
			wantNoUsername bool
		}{
			"data merges, siblings kept": {
				patch:         map[string]any{"user": map[string]any{"data": map[string]any{"watchCount": 2}}},
				wantData:      map[string]any{"watchCount": 2, "anonymousUser": true, "nested": map[string]any{"x": 1, "y": 2}},
				wantFirstName: "Ada",
			},
			"nested objects merge": {
				patch:         map[string]any{"user": map[string]any{"data": map[string]any{"nested": map[string]any{"x": 5, "z": 6}}}},
				wantData:      map[string]any{"watchCount": 1, "anonymousUser": true, "nested": map[string]any{"x": 5, "y": 2, "z": 6}},
				wantFirstName: "Ada",
			},
			"null removes a data key": {
				patch:         map[string]any{"user": map[string]any{"data": map[string]any{"anonymousUser": nil}}},
				wantData:      map[string]any{"watchCount": 1, "nested": map[string]any{"x": 1, "y": 2}},
				wantFirstName: "Ada",
			},
			"null removes a field": {
				patch:    map[string]any{"user": map[string]any{"firstName": nil}},
				wantData: baseData,
			},
			"email changes lower-cased": {
				patch:         map[string]any{"user": map[string]any{"email": newEmail}},
				wantData:      baseData,
				wantFirstName: "Ada",
				wantEmail:     strings.ToLower(newEmail),
			},
			"blank username unsets it": {
				// §1.6: the official anonymous-user example clears the username this way
				// when a visitor converts, and this project's webhook does the same.
				patch:          map[string]any{"user": map[string]any{"username": ""}},
				wantData:       baseData,
				wantFirstName:  "Ada",
				wantNoUsername: true,
			},
		}
		for name, tc := range tests {
			t.Run(name, func(t *testing.T) {
				e := tg.open(t)
				ctx := context.Background()
				email := uniqueEmail("patch")
				username := "contract-" + randomHex(6)
				before := e.createUser(t, faclient.UserRequest{User: faclient.User{Email: email, Username: username, Password: testPassword, FirstName: "Ada", Data: baseData}}).User
				if e.compat() {
					e.advance(time.Second)
				} else {
					// Instants have millisecond resolution: on a real server, let at least
					// two milliseconds of its clock pass between the create and the patch
					// (both are stamped by the same clock, so this is not a race).
					time.Sleep(2 * time.Millisecond)
				}
				resp, err := e.admin.PatchUser(ctx, before.ID, tc.patch)
				if err != nil {
					t.Fatalf("patch: %v", err)
				}
				rawUser, _ := decodeObject(t, e.lastExchange(t, http.MethodPatch, "/api/user/").Body)["user"].(map[string]any)
				got, err := e.admin.RetrieveUser(ctx, before.ID)
				if err != nil {
					t.Fatalf("retrieve after patch: %v", err)
				}
				wantEmail := tc.wantEmail
				if wantEmail == "" {
					wantEmail = email
				}
				for source, u := range map[string]faclient.User{"patch response": resp.User, "retrieved": got.User} {
					if want := jsonRoundTrip(t, tc.wantData); !reflect.DeepEqual(u.Data, want) {
						t.Errorf("%s: data = %v, want %v", source, u.Data, want)
					}
					if u.FirstName != tc.wantFirstName {
						t.Errorf("%s: firstName = %q, want %q", source, u.FirstName, tc.wantFirstName)
					}
					if u.Email != wantEmail {
						t.Errorf("%s: email = %q, want %q", source, u.Email, wantEmail)
					}
					wantUsername := username
					if tc.wantNoUsername {
						wantUsername = ""
					}
					if u.Username != wantUsername {
						t.Errorf("%s: username = %q, want %q", source, u.Username, wantUsername)
					}
					if u.LastUpdateInstant <= before.LastUpdateInstant {
						t.Errorf("%s: lastUpdateInstant = %d, want after %d", source, u.LastUpdateInstant, before.LastUpdateInstant)
					}
					if u.InsertInstant != before.InsertInstant {
						t.Errorf("%s: insertInstant = %d, want unchanged %d", source, u.InsertInstant, before.InsertInstant)
					}
				}
				if e.compat() && resp.User.LastUpdateInstant != e.now().UnixMilli() {
					t.Errorf("lastUpdateInstant = %d, want the server clock %d", resp.User.LastUpdateInstant, e.now().UnixMilli())
				}
				if _, ok := rawUser["firstName"]; ok != (tc.wantFirstName != "") {
					t.Errorf("patch response has firstName key: %v, want %v (removed fields are absent, §1.1)", ok, tc.wantFirstName != "")
				}
				if _, ok := rawUser["username"]; ok == tc.wantNoUsername {
					t.Errorf("patch response has username key: %v, want %v", ok, !tc.wantNoUsername)
				}
				if tc.wantEmail != "" {
					if _, err := e.admin.RetrieveUserByEmail(ctx, email); !faclient.IsNotFound(err) {
						t.Errorf("lookup of the old email: err = %v, want 404", err)
					}
				}
			})
		}
	})
}

// TestDeleteUser: DELETE /api/user/{id}?hardDelete=true answers 200 with no body (§6);
// the user is then gone (404), and deleting it again is 404.
func TestDeleteUser(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		e := tg.open(t)
		ctx := context.Background()
		u := e.createUser(t, faclient.UserRequest{User: faclient.User{Email: uniqueEmail("delete"), Password: testPassword}}).User
		steps := []struct {
			name       string
			do         func() error
			wantStatus int
			method     string
		}{
			{"delete", func() error { return e.admin.DeleteUser(ctx, u.ID) }, http.StatusOK, http.MethodDelete},
			{"retrieve", func() error { _, err := e.admin.RetrieveUser(ctx, u.ID); return err }, http.StatusNotFound, http.MethodGet},
			{"retrieve by email", func() error { _, err := e.admin.RetrieveUserByEmail(ctx, u.Email); return err }, http.StatusNotFound, http.MethodGet},
			{"delete again", func() error { return e.admin.DeleteUser(ctx, u.ID) }, http.StatusNotFound, http.MethodDelete},
		}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				err := st.do()
				if got := statusOf(err); got != st.wantStatus {
					t.Fatalf("status = %d (%v), want %d", got, err, st.wantStatus)
				}
				if x := e.lastExchange(t, st.method, "/api/user"); len(x.Body) != 0 {
					t.Errorf("body = %q, want empty (§6, §1.4)", x.Body)
				}
			})
		}
	})
}

// TestSoftDeleteUser: DELETE /api/user/{id} without hardDelete deactivates: 200 with
// no body, the user stays readable with active false; PUT ?reactivate=true (no body,
// as the official client sends it) undoes it (§5, §6).
func TestSoftDeleteUser(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		tests := map[string]string{
			"no parameter":     "",
			"hardDelete=false": "?hardDelete=false",
		}
		for name, query := range tests {
			t.Run(name, func(t *testing.T) {
				e := tg.open(t)
				u := e.createUser(t, faclient.UserRequest{User: faclient.User{Email: uniqueEmail("soft"), Password: testPassword}}).User
				resp := e.raw(t, http.MethodDelete, "/api/user/"+u.ID+query, e.adminKey, nil)
				if resp.Status != http.StatusOK || len(resp.Body) != 0 {
					t.Fatalf("delete: got %d %q, want 200 with no body", resp.Status, resp.Body)
				}
				got, err := e.admin.RetrieveUser(context.Background(), u.ID)
				if err != nil {
					t.Fatalf("retrieve the deactivated user: %v, want it kept", err)
				}
				if got.User.Active {
					t.Errorf("active = true, want false after a soft delete")
				}
				re := e.raw(t, http.MethodPut, "/api/user/"+u.ID+"?reactivate=true", e.adminKey, nil)
				if re.Status != http.StatusOK {
					t.Fatalf("reactivate: got %d %s, want 200", re.Status, re.Body)
				}
				got, err = e.admin.RetrieveUser(context.Background(), u.ID)
				if err != nil || !got.User.Active || got.User.Email != u.Email {
					t.Errorf("after reactivate: user %+v, err %v, want the same user active again", got, err)
				}
			})
		}
	})
}

// TestMalformedUserID: a user id that is not a UUID is a 400 [couldNotConvert]userId
// field error (§1.1), not a 404.
func TestMalformedUserID(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		e := tg.open(t)
		ctx := context.Background()
		const bad = "not-a-uuid"
		tests := map[string]func() error{
			"retrieve": func() error { _, err := e.admin.RetrieveUser(ctx, bad); return err },
			"patch": func() error {
				_, err := e.admin.PatchUser(ctx, bad, map[string]any{"user": map[string]any{"data": map[string]any{"x": 1}}})
				return err
			},
			"delete": func() error { return e.admin.DeleteUser(ctx, bad) },
		}
		for name, call := range tests {
			t.Run(name, func(t *testing.T) {
				err := call()
				if got := statusOf(err); got != http.StatusBadRequest {
					t.Fatalf("status = %d (%v), want 400", got, err)
				}
				if codes := errorCodes(err); !slices.Contains(codes, "[couldNotConvert]userId") {
					t.Errorf("codes = %v, want [couldNotConvert]userId", codes)
				}
			})
		}
	})
}

// statusOf is the HTTP status behind a client result: 200 for success.
func statusOf(err error) int {
	if err == nil {
		return http.StatusOK
	}
	return faclient.StatusCode(err)
}

// decodeObject decodes a JSON object body.
func decodeObject(t testing.TB, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
	return m
}

// jsonRoundTrip returns v as it comes back from JSON (numbers as float64).
func jsonRoundTrip(t testing.TB, v map[string]any) map[string]any {
	t.Helper()
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return maps.Clone(out)
}

// mixCase upper-cases every other letter.
func mixCase(s string) string {
	b := []byte(s)
	for i := range b {
		if i%2 == 0 && b[i] >= 'a' && b[i] <= 'z' {
			b[i] -= 'a' - 'A'
		}
	}
	return string(b)
}

// newUUID returns a random version-4 UUID.
func newUUID() string {
	h := randomHex(16)
	b := []byte(h)
	b[12] = '4'
	b[16] = "89ab"[b[16]%4]
	return string(b[0:8]) + "-" + string(b[8:12]) + "-" + string(b[12:16]) + "-" + string(b[16:20]) + "-" + string(b[20:32])
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
