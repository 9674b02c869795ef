package contract_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/changebank/anonuser/shared/faclient"
)

// TestAPIKeys: the API key is the raw Authorization header; a missing or unknown key,
// or a key whose permissions do not list the endpoint root and method, is refused with
// 401 and an empty body, never 403 (§1.2). The limited keys are the kickstart's
// least-privilege keys, one per function.
func TestAPIKeys(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		tests := []struct {
			name    string
			key     string // kickstart key variable; "" = no key, "unknown" = a key that does not exist
			call    authCall
			path    string // request path prefix, to find the exchange
			method  string
			want    int
			notDone func(ctx context.Context, t testing.TB, e *env, email string) // checks a refused call had no effect
		}{
			{name: "no key", key: "", method: http.MethodGet, path: "/api/user/", want: http.StatusUnauthorized, call: retrieveRegular},
			{name: "unknown key", key: "unknown", method: http.MethodGet, path: "/api/user/", want: http.StatusUnauthorized, call: retrieveRegular},
			{name: "admin key", key: "apiKey", method: http.MethodGet, path: "/api/user/", want: http.StatusOK, call: retrieveRegular},
			{name: "video key reads users", key: "videoApiKey", method: http.MethodGet, path: "/api/user/", want: http.StatusOK, call: retrieveRegular},
			{name: "video key refused on search", key: "videoApiKey", method: http.MethodPost, path: "/api/user/search", want: http.StatusUnauthorized, call: searchAll},
			{
				name: "video key refused on bulk delete", key: "videoApiKey", method: http.MethodDelete, path: "/api/user/bulk", want: http.StatusUnauthorized,
				call: func(ctx context.Context, t testing.TB, e *env, c *faclient.Client, _ string) error {
					// A dry run, so that a wrongly accepted key changes nothing on a real FusionAuth.
					_, err := c.DeleteUsersByQuery(ctx, faclient.UserDeleteRequest{UserIDs: []string{e.variable(t, "regularUserId")}, DryRun: true})
					return err
				},
			},
			{
				name: "prune key refused on create", key: "pruneApiKey", method: http.MethodPost, path: "/api/user", want: http.StatusUnauthorized,
				call: func(ctx context.Context, t testing.TB, e *env, c *faclient.Client, email string) error {
					resp, err := c.CreateUser(ctx, "", faclient.UserRequest{User: faclient.User{Email: email, Password: testPassword}})
					if err == nil {
						e.cleanupUser(t, resp.User.ID)
					}
					return err
				},
				notDone: func(ctx context.Context, t testing.TB, e *env, email string) {
					t.Helper()
					if _, err := e.admin.RetrieveUserByEmail(ctx, email); !faclient.IsNotFound(err) {
						t.Errorf("refused create: lookup err = %v, want 404 (no user created)", err)
					}
				},
			},
			{name: "prune key allowed on search", key: "pruneApiKey", method: http.MethodPost, path: "/api/user/search", want: http.StatusOK, call: searchAll},
			{
				name: "webhook key refused on vend", key: "webhookApiKey", method: http.MethodPost, path: "/api/jwt/vend", want: http.StatusUnauthorized,
				call: func(ctx context.Context, t testing.TB, e *env, c *faclient.Client, _ string) error {
					_, err := c.VendJWT(ctx, faclient.JWTVendRequest{Claims: map[string]any{"userId": "x"}, KeyID: e.variable(t, "signingKeyId"), TimeToLiveInSeconds: 60})
					return err
				},
			},
			{name: "webhook key reads users", key: "webhookApiKey", method: http.MethodGet, path: "/api/user/", want: http.StatusOK, call: retrieveRegular},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				e := tg.open(t)
				ctx := context.Background()
				var key string
				switch tc.key {
				case "":
				case "unknown":
					key = "no-such-key-" + randomHex(8)
				default:
					key = e.apiKey(t, tc.key)
				}
				email := uniqueEmail("auth")
				err := tc.call(ctx, t, e, e.client(t, key), email)
				if got := statusOf(err); got != tc.want {
					t.Fatalf("status = %d (%v), want %d", got, err, tc.want)
				}
				x := e.lastExchange(t, tc.method, tc.path)
				if tc.want == http.StatusUnauthorized && len(x.Body) != 0 {
					t.Errorf("401 body = %q, want empty (§1.2)", x.Body)
				}
				if tc.notDone != nil {
					tc.notDone(ctx, t, e, email)
				}
			})
		}
	})
}

// authCall makes one call with client c; email is a fresh address for calls that
// create a user.
type authCall func(ctx context.Context, t testing.TB, e *env, c *faclient.Client, email string) error

func retrieveRegular(ctx context.Context, t testing.TB, e *env, c *faclient.Client, _ string) error {
	_, err := c.RetrieveUser(ctx, e.variable(t, "regularUserId"))
	return err
}

func searchAll(ctx context.Context, t testing.TB, e *env, c *faclient.Client, _ string) error {
	_, err := c.SearchUsersByQuery(ctx, faclient.SearchRequest{Search: faclient.UserSearchCriteria{IDs: []string{e.variable(t, "regularUserId")}}})
	return err
}
