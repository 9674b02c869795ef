package contract_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/changebank/anonuser/shared/faclient"
)

// functionKeys are the kickstart's API keys of the four functions, each locked to the
// visitors' tenant.
var functionKeys = []string{"videoApiKey", "registerApiKey", "webhookApiKey", "pruneApiKey"}

// oneOf reports whether status is among want.
func oneOf(status int, want ...int) bool { return slices.Contains(want, status) }

// TestFunctionKeysCannotReachAdmins: no function's key can mint a token or read, change,
// delete or bulk-delete FusionAuth's administrator, who lives in the Default tenant while
// the keys are locked to the visitors' tenant (issue 13). A locked key's reach is its
// tenant whatever tenant header comes with it.
func TestFunctionKeysCannotReachAdmins(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		for _, name := range functionKeys {
			t.Run(name, func(t *testing.T) {
				e := tg.open(t)
				ctx := context.Background()
				c := e.client(t, e.apiKey(t, name))
				adminID, adminEmail := e.variable(t, "adminUserId"), e.variable(t, "adminEmail")
				_, err := c.VendJWT(ctx, faclient.JWTVendRequest{Claims: map[string]any{"sub": adminID, "roles": []string{"admin"}}, KeyID: e.variable(t, "signingKeyId"), TimeToLiveInSeconds: 60})
				if statusOf(err) != http.StatusUnauthorized {
					t.Errorf("vend: status %d (%v), want 401", statusOf(err), err)
				}
				if _, err := c.RetrieveUser(ctx, adminID); !oneOf(statusOf(err), http.StatusUnauthorized, http.StatusNotFound) {
					t.Errorf("read the admin: status %d (%v), want 401 or 404", statusOf(err), err)
				}
				if _, err := c.PatchUser(ctx, adminID, map[string]any{"user": map[string]any{"password": "taken-over-password-1"}}); !oneOf(statusOf(err), http.StatusUnauthorized, http.StatusNotFound) {
					t.Errorf("PATCH the admin: status %d (%v), want 401 or 404", statusOf(err), err)
				}
				if err := c.DeleteUser(ctx, adminID); !oneOf(statusOf(err), http.StatusUnauthorized, http.StatusNotFound) {
					t.Errorf("delete the admin: status %d (%v), want 401 or 404", statusOf(err), err)
				}
				matchAdmin := fmt.Sprintf(`{"bool":{"should":[{"term":{"email":%q}},{"term":{"id":%q}}]}}`, adminEmail, adminID)
				if resp, err := c.DeleteUsersByQuery(ctx, faclient.UserDeleteRequest{Query: matchAdmin, DryRun: true, HardDelete: true}); statusOf(err) != http.StatusUnauthorized && (err != nil || resp.Total != 0) {
					t.Errorf("bulk-delete dry run matching the admin: %+v, %v; want total 0 or 401", resp, err)
				}
				if resp, err := c.SearchUsersByQuery(ctx, faclient.SearchRequest{Search: faclient.UserSearchCriteria{Query: matchAdmin}}); statusOf(err) != http.StatusUnauthorized && (err != nil || resp.Total != 0) {
					t.Errorf("search matching the admin: %+v, %v; want total 0 or 401", resp, err)
				}
				other := e.rawWith(t, http.MethodGet, "/api/user/"+adminID, e.apiKey(t, name), nil, http.Header{"X-FusionAuth-TenantId": {e.variable(t, "defaultTenantId")}})
				if !oneOf(other.Status, http.StatusUnauthorized, http.StatusNotFound) {
					t.Errorf("read the admin naming the Default tenant: status %d, want 401 or 404", other.Status)
				}
				// The administrator is untouched: still there, and the old password still works.
				login, err := e.clientIn(t, e.adminKey, "defaultTenantId").Login(ctx, faclient.LoginRequest{LoginID: adminEmail, Password: e.variable(t, "adminPassword")})
				if err != nil || login.User.ID != adminID {
					t.Errorf("admin login after the attempts: %v, want the admin still there with the old password", err)
				}
			})
		}
	})
}

// TestFunctionKeysExactPermissions: each function's key does every call its function
// makes, and is refused (401, empty body) on a call just outside that set, so the
// permissions are exact, not merely small.
func TestFunctionKeysExactPermissions(t *testing.T) {
	type call func(ctx context.Context, c *faclient.Client, u faclient.User) error
	retrieve := func(ctx context.Context, c *faclient.Client, u faclient.User) error {
		_, err := c.RetrieveUser(ctx, u.ID)
		return err
	}
	patch := func(ctx context.Context, c *faclient.Client, u faclient.User) error {
		_, err := c.PatchUser(ctx, u.ID, map[string]any{"user": map[string]any{"data": map[string]any{"watchCount": 2}}})
		return err
	}
	testAndSet := func(ctx context.Context, c *faclient.Client, u faclient.User) error {
		read, err := c.RetrieveUser(ctx, u.ID) // as the Updater does: the guard tests the user as just read
		if err != nil {
			return err
		}
		_, err = c.PatchUserJSONPatch(ctx, u.ID, []faclient.PatchOperation{
			{Op: "test", Path: "/user/lastUpdateInstant", Value: read.User.LastUpdateInstant}, {Op: "add", Path: "/user/data/watchCount", Value: 5}})
		return err
	}
	create := func(ctx context.Context, c *faclient.Client, _ faclient.User) error {
		_, err := c.CreateUser(ctx, "", faclient.UserRequest{User: faclient.User{Username: "contract-" + randomHex(8), Password: testPassword}})
		return err
	}
	byEmail := func(ctx context.Context, c *faclient.Client, u faclient.User) error {
		_, err := c.RetrieveUserByEmail(ctx, u.Email)
		return err
	}
	forgot := func(ctx context.Context, c *faclient.Client, u faclient.User) error {
		no := false
		_, err := c.ForgotPassword(ctx, faclient.ForgotPasswordRequest{LoginID: u.Email, SendForgotPasswordEmail: &no})
		return err
	}
	search := func(ctx context.Context, c *faclient.Client, u faclient.User) error {
		_, err := c.SearchUsersByQuery(ctx, faclient.SearchRequest{Search: faclient.UserSearchCriteria{Query: fmt.Sprintf(`{"term":{"id":%q}}`, u.ID)}})
		return err
	}
	bulkDryRun := func(ctx context.Context, c *faclient.Client, u faclient.User) error {
		_, err := c.DeleteUsersByQuery(ctx, faclient.UserDeleteRequest{UserIDs: []string{u.ID}, DryRun: true, HardDelete: true})
		return err
	}
	bulkDelete := func(ctx context.Context, c *faclient.Client, u faclient.User) error {
		resp, err := c.DeleteUsersByQuery(ctx, faclient.UserDeleteRequest{Query: fmt.Sprintf(`{"term":{"id":%q}}`, u.ID), HardDelete: true})
		if err == nil && resp.Total != 1 {
			return fmt.Errorf("bulk delete of the user's id deleted %d users, want 1", resp.Total)
		}
		return err
	}
	deleteUser := func(ctx context.Context, c *faclient.Client, u faclient.User) error { return c.DeleteUser(ctx, u.ID) }
	var accountExists string // the template of the taken-address email (set per target)
	sendEmail := func(ctx context.Context, c *faclient.Client, u faclient.User) error {
		_, err := c.SendEmail(ctx, accountExists, faclient.SendRequest{
			ToAddresses: []faclient.EmailAddress{{Address: u.Email}},
			RequestData: map[string]any{"signInURL": "https://changebank.example/login"},
		})
		return err
	}
	type named struct {
		name string
		do   call
	}
	tests := map[string]struct {
		allowed, refused []named
	}{
		"videoApiKey": {
			allowed: []named{{"create", create}, {"retrieve", retrieve}, {"patch", patch}, {"test-and-set", testAndSet}},
			refused: []named{{"delete", deleteUser}, {"forgot-password", forgot}, {"search", search}, {"send email", sendEmail}},
		},
		// register moves a profile to a fresh stub on a change of address (create, then
		// delete the old one), tells an address's owner they have an account, and at
		// sign-in merges a stub into the account (test-and-set) and deletes the stub:
		// delete last, the user is gone after it.
		"registerApiKey": {
			allowed: []named{{"retrieve", retrieve}, {"retrieve by email", byEmail}, {"patch", patch}, {"test-and-set", testAndSet},
				{"forgot-password", forgot}, {"send email", sendEmail}, {"create", create}, {"delete", deleteUser}},
			refused: []named{{"search", search}, {"bulk dry run", bulkDryRun}},
		},
		"webhookApiKey": {
			allowed: []named{{"retrieve", retrieve}, {"patch", patch}, {"test-and-set", testAndSet}},
			refused: []named{{"create", create}, {"forgot-password", forgot}, {"delete", deleteUser}, {"send email", sendEmail}},
		},
		"pruneApiKey": {
			allowed: []named{{"search", search}, {"bulk dry run", bulkDryRun}, {"retrieve", retrieve}, {"patch", patch}, {"test-and-set", testAndSet}, {"bulk delete", bulkDelete}},
			refused: []named{{"create", create}, {"delete", deleteUser}, {"forgot-password", forgot}, {"send email", sendEmail}},
		},
	}
	eachTarget(t, func(t *testing.T, tg target) {
		for key, tc := range tests {
			t.Run(key, func(t *testing.T) {
				e := tg.open(t)
				ctx := context.Background()
				accountExists = e.variable(t, "accountExistsEmailTemplateId")
				c := e.client(t, e.apiKey(t, key))
				u := e.createUser(t, faclient.UserRequest{User: faclient.User{Email: uniqueEmail("perm"), Password: testPassword, Data: map[string]any{"watchCount": 1}}}).User
				refreshSearchIndex(t, e)
				for _, a := range tc.refused {
					if err := a.do(ctx, c, u); statusOf(err) != http.StatusUnauthorized {
						t.Errorf("%s: status %d (%v), want 401: the key holds more than its function needs", a.name, statusOf(err), err)
					}
				}
				for _, a := range tc.allowed {
					if err := a.do(ctx, c, u); err != nil {
						t.Errorf("%s: %v, want success: the key lacks a permission its function needs", a.name, err)
					}
				}
				// The video and register functions create their own users: clean those up.
				if key == "videoApiKey" || key == "registerApiKey" {
					cleanupCreatedBy(t, e, "contract-")
				}
			})
		}
	})
}

// cleanupCreatedBy hard-deletes, when the test ends, the users the test created through
// a client whose users it did not track (username prefix, in the visitors' tenant).
func cleanupCreatedBy(t *testing.T, e *env, prefix string) {
	t.Helper()
	e.mu.Lock()
	var ids []string
	for _, x := range e.exchanges {
		if x.Method == http.MethodPost && x.Path == "/api/user" && x.Status == http.StatusOK {
			if id, _ := decodeObject(t, x.Body)["user"].(map[string]any)["id"].(string); id != "" {
				ids = append(ids, id)
			}
		}
	}
	e.mu.Unlock()
	for _, id := range ids {
		e.cleanupUser(t, id)
	}
}

// TestGlobalAPIsRefuseTenantScope: Key Master and, since FusionAuth 1.66.0, the Webhook
// APIs are global APIs. A tenant-locked key is refused there, and since
// fusionauth-issues #3452 (2026-04) so is a global key sent with X-FusionAuth-TenantId:
// 401 with an empty body (the webhook docs moved to global keys in fusionauth-site PR
// #4299). Without the header the global key gets through: it reads the key, and a
// webhook without a url is a validation error (400), so nothing is created on a real
// FusionAuth.
func TestGlobalAPIsRefuseTenantScope(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		e := tg.open(t)
		apis := map[string]struct {
			method, path string
			body         any
			passed       int // the status once the key is accepted
		}{
			"Key Master": {http.MethodGet, "/api/key/" + e.variable(t, "signingKeyId"), nil, http.StatusOK},
			"Webhooks":   {http.MethodPost, "/api/webhook", map[string]any{"webhook": map[string]any{}}, http.StatusBadRequest},
		}
		visitors := http.Header{"X-FusionAuth-TenantId": {e.variable(t, "visitorTenantId")}}
		for name, api := range apis {
			tests := map[string]struct {
				key    string
				header http.Header
				want   int
			}{
				"global key":                    {e.adminKey, nil, api.passed},
				"global key with tenant header": {e.adminKey, visitors, http.StatusUnauthorized},
				"tenant-locked key":             {e.apiKey(t, "videoApiKey"), nil, http.StatusUnauthorized},
			}
			for tname, tc := range tests {
				t.Run(name+"/"+tname, func(t *testing.T) {
					r := e.rawWith(t, api.method, api.path, tc.key, api.body, tc.header)
					if r.Status != tc.want {
						t.Fatalf("%s %s: status = %d (%s), want %d", api.method, api.path, r.Status, r.Body, tc.want)
					}
					if tc.want == http.StatusUnauthorized && len(r.Body) != 0 {
						t.Errorf("401 body = %q, want empty", r.Body)
					}
				})
			}
		}
	})
}

// TestAPIKeysAPI: the API Keys API creates a key locked to the visitors' tenant with the
// endpoints given, and deletes it. The key reads a visitor, cannot see the Default
// tenant's administrator, is refused outside its endpoints, and is refused on
// /api/webhook even though its permissions name it: since FusionAuth 1.66.0 the Webhook
// APIs are global and refuse every tenant-scoped key with 401 and an empty body
// (fusionauth-issues #3452), before the body is looked at.
func TestAPIKeysAPI(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		e := tg.open(t)
		ctx := context.Background()
		id, key := newUUIDString(), "contract-key-"+randomHex(16)
		body := map[string]any{"apiKey": map[string]any{
			"key": key, "tenantId": e.variable(t, "visitorTenantId"),
			"permissions": map[string]any{"endpoints": map[string]any{"/api/user": []string{"GET"}, "/api/webhook": []string{"POST"}}},
		}}
		if r := e.raw(t, http.MethodPost, "/api/api-key/"+id, e.adminKey, body); r.Status != http.StatusOK {
			t.Fatalf("create API key: %d %s", r.Status, r.Body)
		}
		t.Cleanup(func() {
			if r := e.raw(t, http.MethodDelete, "/api/api-key/"+id, e.adminKey, nil); r.Status != http.StatusOK {
				t.Errorf("delete API key: %d %s", r.Status, r.Body)
			}
		})
		u := e.createUser(t, faclient.UserRequest{User: faclient.User{Email: uniqueEmail("apikey"), Password: testPassword}}).User
		c := e.client(t, key)
		// FusionAuth caches keys: a new one may be refused for about a second (§1.2).
		var err error
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			if _, err = c.RetrieveUser(ctx, u.ID); !faclient.IsUnauthorized(err) || time.Now().After(deadline) {
				break
			}
		}
		if err != nil {
			t.Fatalf("the new key reads a visitor: %v", err)
		}
		if _, err := c.RetrieveUser(ctx, e.variable(t, "adminUserId")); !oneOf(statusOf(err), http.StatusUnauthorized, http.StatusNotFound) {
			t.Errorf("the new key reads the admin: status %d (%v), want 401 or 404", statusOf(err), err)
		}
		if _, err := c.PatchUser(ctx, u.ID, map[string]any{"user": map[string]any{"firstName": "x"}}); statusOf(err) != http.StatusUnauthorized {
			t.Errorf("PATCH with a GET-only key: status %d (%v), want 401", statusOf(err), err)
		}
		if r := e.rawWith(t, http.MethodPost, "/api/webhook", key, map[string]any{"webhook": map[string]any{}}, nil); r.Status != http.StatusUnauthorized || len(r.Body) != 0 {
			t.Errorf("POST /api/webhook, tenant-locked key permitted /api/webhook: status %d (%s), want 401 with an empty body (a global API since 1.66.0)", r.Status, r.Body)
		}
	})
}

// newUUIDString returns a random (version 4) UUID.
func newUUIDString() string {
	b := []byte(randomHex(16))
	b[12] = '4'
	b[16] = "89ab"[b[16]%4]
	return fmt.Sprintf("%s-%s-%s-%s-%s", b[0:8], b[8:12], b[12:16], b[16:20], b[20:32])
}
