package contract_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/faclient/fatest"
)

// TestSetPasswordLinkUsesBaseURL (issue 17, item 1): the set-password email builds its
// link from ${baseUrl}, which FusionAuth 1.68+ fills from the application's baseURL, else
// the tenant's (reference §14). The kickstart sets the visitors' tenant's baseURL to
// FusionAuth as browsers reach it (fusionAuthURL), so the link relies on nothing
// undocumented; the compatible server honours the tenant's setting instead of always
// filling in its own address. Reading the email needs the compatible server's outbox
// (the real target's mail catcher is the pipeline's).
func TestSetPasswordLinkUsesBaseURL(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		e := tg.open(t)
		e.requireCompat(t, "reading the sent email needs the compatible server's outbox")
		ctx := context.Background()
		tenant := e.variable(t, "visitorTenantId")
		for _, base := range []string{e.variable(t, "fusionAuthURL"), "https://id.changebank.example"} {
			if base != e.variable(t, "fusionAuthURL") {
				patch := map[string]any{"tenant": map[string]any{"baseURL": base}}
				if r := e.raw(t, http.MethodPatch, "/api/tenant/"+tenant, e.adminKey, patch); r.Status != http.StatusOK {
					t.Fatalf("set the tenant's baseURL: %d %s", r.Status, r.Body)
				}
			}
			u := e.createUser(t, faclient.UserRequest{User: faclient.User{Email: uniqueEmail("baseurl"), Password: testPassword}}).User
			resp, err := e.admin.ForgotPassword(ctx, faclient.ForgotPasswordRequest{LoginID: u.Email, State: map[string]any{"anon_user": "true"}})
			if err != nil {
				t.Fatalf("forgot password: %v", err)
			}
			out := e.srv.Outbox()
			link := out[len(out)-1].Link
			if want := base + "/password/change/" + resp.ChangePasswordID; !strings.HasPrefix(link, want) {
				t.Errorf("link = %q, want it to start with the tenant's baseURL: %q", link, want)
			}
		}
	})
}

// TestWebhookNotRetriedWithoutTransaction (issue 17, item 2): with transactionType None
// (the kickstart's), FusionAuth sends an event once and forgets it: a receiver that fails
// gets no second attempt, and the login still succeeds. Observing deliveries needs the
// compatible server (a real FusionAuth's webhook would have to reach this process).
func TestWebhookNotRetriedWithoutTransaction(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		tg.requireAvailable(t)
		if tg.name != compatTarget {
			t.Skip("needs the compatible server: a real FusionAuth's webhook cannot reach this test's receiver")
		}
		var attempts atomic.Int32
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			attempts.Add(1)
			w.WriteHeader(http.StatusInternalServerError)
		}))
		defer hook.Close()
		srv := fatest.NewTestServer(t, fatest.Options{Variables: map[string]string{"webhookURL": hook.URL}})
		c, err := faclient.New(faclient.Options{BaseURL: srv.URL(), Keys: faclient.StaticKey(srv.Variable("apiKey")), TenantID: srv.Variable("visitorTenantId")})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Login(context.Background(), faclient.LoginRequest{LoginID: srv.Variable("regularEmail"), Password: srv.Variable("regularPassword"), ApplicationID: srv.Variable("applicationId")})
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("login: %v, %+v; want 200 whatever the webhook answers", err, resp)
		}
		if n := attempts.Load(); n != 1 {
			t.Errorf("delivery attempts = %d, want 1 (no retry under transactionType None)", n)
		}
	})
}

// TestVendReservedClaims (issue 17, item 4): FusionAuth reserves amr and cnf on the Vend
// API (fusionauth-issues #1669, #3177): values the caller sends for them do not reach the
// token, and FusionAuth sets amr itself (a list).
func TestVendReservedClaims(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		e := tg.open(t)
		resp, err := e.admin.VendJWT(context.Background(), faclient.JWTVendRequest{
			Claims: map[string]any{"userId": "u-1", "amr": []string{"pwd", "mfa"}, "cnf": map[string]any{"jkt": "forged"}},
			KeyID:  e.variable(t, "signingKeyId"), TimeToLiveInSeconds: 60,
		})
		if err != nil {
			t.Fatalf("vend: %v", err)
		}
		_, claims := decodeJWT(t, resp.Token)
		if _, ok := claims["cnf"]; ok {
			t.Errorf("cnf = %v, want the caller's cnf dropped (reserved)", claims["cnf"])
		}
		amr, ok := claims["amr"].([]any)
		if !ok || slices.Contains(amr, any("pwd")) || slices.Contains(amr, any("mfa")) {
			t.Errorf("amr = %v, want FusionAuth's own list, not the caller's", claims["amr"])
		}
	})
}

// TestSearchFidelity (issue 17, item 5): an invalid query is 400 [invalid]query (from
// Elasticsearch's validate step), nextResults comes with every answer, empty pages
// included, and a fresh install publishes a default RSA key in the JWKS besides the
// kickstart's keys (since 1.50, reference §10.2), so nothing may assume the JWKS holds
// only the kickstart's keys.
func TestSearchFidelity(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		e := tg.open(t)
		ctx := context.Background()
		t.Run("invalid query", func(t *testing.T) {
			bad := `{"range":{"lastUpdateInstant":{"lt":"not-a-date"}}}`
			_, err := e.admin.SearchUsersByQuery(ctx, faclient.SearchRequest{Search: faclient.UserSearchCriteria{Query: bad}})
			if statusOf(err) != http.StatusBadRequest || !slices.Contains(errorCodes(err), "[invalid]query") {
				t.Errorf("search: status %d, codes %v; want 400 [invalid]query", statusOf(err), errorCodes(err))
			}
			_, err = e.admin.DeleteUsersByQuery(ctx, faclient.UserDeleteRequest{Query: bad, DryRun: true})
			if statusOf(err) != http.StatusBadRequest || !slices.Contains(errorCodes(err), "[invalid]query") {
				t.Errorf("bulk delete: status %d, codes %v; want 400 [invalid]query", statusOf(err), errorCodes(err))
			}
		})
		t.Run("nextResults on every page", func(t *testing.T) {
			run, _ := searchFixture(t, e, []searchUser{{letter: "a", x: "a"}, {letter: "b", x: "a"}})
			q := runTermQuery(run)
			for name, search := range map[string]faclient.UserSearchCriteria{
				"full page":  {Query: q, NumberOfResults: intPtr(2)},
				"empty page": {Query: runTermQuery(randomHex(8))},
			} {
				if _, err := e.admin.SearchUsersByQuery(ctx, faclient.SearchRequest{Search: search}); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				body := decodeObject(t, e.lastExchange(t, http.MethodPost, "/api/user/search").Body)
				if tok, _ := body["nextResults"].(string); tok == "" {
					t.Errorf("%s: nextResults = %v, want a token on every answer", name, body["nextResults"])
				}
			}
		})
		t.Run("fresh install key in the JWKS", func(t *testing.T) {
			keys := jwksKeys(t, e)
			kickstart := map[string]bool{}
			for _, id := range []string{"signingKeyId", "webhookSigningKeyId"} {
				k, err := e.admin.RetrieveKey(ctx, e.variable(t, id))
				if err != nil {
					t.Fatalf("retrieve %s: %v", id, err)
				}
				kickstart[k.Key.KID] = true
			}
			var others []string
			for kid, k := range keys {
				if !kickstart[kid] && k.Kty == "RSA" {
					others = append(others, kid)
				}
			}
			if len(others) == 0 {
				t.Errorf("JWKS kids = %v, want the fresh install's RSA key besides the kickstart's", mapsKeys(keys))
			}
		})
	})
}

func mapsKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestProductionNullPatches (issue 17, item 6): the exact PATCH requests production sends
// with null, which in FusionAuth's application/json PATCH removes a field: the webhook's
// conversion ({"user":{"username":null,…}}) leaves a user known by email only, and
// prune's release ({"user":{"email":null,…}}) a stub known by username only.
func TestProductionNullPatches(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		tests := map[string]struct {
			patch       string
			wantAbsent  string
			wantPresent string
		}{
			"webhook conversion: username null": {
				patch:      `{"user":{"username":null,"data":{"anonymousUser":false,"convertedAt":1767225600000,"emailPendingSince":null}}}`,
				wantAbsent: "username", wantPresent: "email",
			},
			"prune release: email null": {
				patch:      `{"user":{"email":null,"data":{"emailPendingSince":null}}}`,
				wantAbsent: "email", wantPresent: "username",
			},
		}
		for name, tc := range tests {
			t.Run(name, func(t *testing.T) {
				e := tg.open(t)
				ctx := context.Background()
				u := e.createUser(t, faclient.UserRequest{User: faclient.User{
					Username: "contract-" + randomHex(8), Email: uniqueEmail("nulls"), Password: testPassword,
					Data: map[string]any{"anonymousUser": true, "emailPendingSince": 1767225600000},
				}}).User
				var req map[string]any
				if err := json.Unmarshal([]byte(tc.patch), &req); err != nil {
					t.Fatal(err)
				}
				resp, err := e.admin.PatchUser(ctx, u.ID, req)
				if err != nil {
					t.Fatalf("patch: %v", err)
				}
				after, err := e.admin.RetrieveUser(ctx, u.ID)
				if err != nil {
					t.Fatalf("re-read: %v", err)
				}
				for _, got := range []faclient.User{resp.User, after.User} {
					present := map[string]string{"username": got.Username, "email": got.Email}
					if present[tc.wantAbsent] != "" || present[tc.wantPresent] == "" {
						t.Errorf("after the patch username = %q, email = %q; want %s removed and %s kept", got.Username, got.Email, tc.wantAbsent, tc.wantPresent)
					}
					if _, ok := got.Data["emailPendingSince"]; ok {
						t.Errorf("data = %v, want emailPendingSince removed by null", got.Data)
					}
				}
				raw := decodeObject(t, e.lastExchange(t, http.MethodGet, "/api/user/").Body)
				if user, _ := raw["user"].(map[string]any); user != nil {
					if _, ok := user[tc.wantAbsent]; ok {
						t.Errorf("%s key present with value %v, want it absent", tc.wantAbsent, user[tc.wantAbsent])
					}
				}
			})
		}
	})
}
