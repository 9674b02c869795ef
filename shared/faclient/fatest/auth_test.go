package fatest_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/changebank/anonuser/shared/faclient/fatest"
)

// permissionsKickstart has one key per kind of restriction (the project's kickstart
// changes with the functions; this matrix must not).
const permissionsKickstart = `{
  "variables": {"defaultTenantId": "d7d09513-a3f5-401c-9685-34ab6c552453", "signingKeyId": "1ae9da3f-fdd4-45af-b605-5d8be94320e1", "webhookId": "8c2e4f61-9a3b-4c5d-8e7f-1a2b3c4d5e6f"},
  "apiKeys": [
    {"key": "admin-key-1234567890"},
    {"key": "video-key-1234567890", "permissions": {"endpoints": {"/api/user": ["GET", "POST", "PATCH"], "/api/jwt/vend": ["POST"], "/api/key": ["GET"]}}},
    {"key": "register-key-1234567890", "permissions": {"endpoints": {"/api/user": ["GET", "PATCH"], "/api/user/forgot-password": ["POST"], "/api/key": ["GET"]}}},
    {"key": "webhook-key-1234567890", "permissions": {"endpoints": {"/api/user": ["GET", "PATCH"], "/api/key": ["GET"]}}},
    {"key": "prune-key-1234567890", "permissions": {"endpoints": {"/api/user/search": ["POST"], "/api/user/bulk": ["DELETE"], "/api/user": ["PATCH"]}}},
    {"key": "locked-key-1234567890", "tenantId": "#{defaultTenantId}"}
  ],
  "requests": [
    {"method": "POST", "url": "/api/key/generate/#{signingKeyId}", "body": {"key": {"algorithm": "RS256", "name": "k", "length": 2048}}},
    {"method": "POST", "url": "/api/webhook/#{webhookId}", "body": {"webhook": {"url": "http://127.0.0.1:1/", "connectTimeout": 100, "readTimeout": 100}}}
  ]
}`

func TestPermissions(t *testing.T) {
	s := fatest.NewTestServer(t, fatest.Options{Kickstart: writeKickstart(t, map[string]string{"kickstart.json": permissionsKickstart})})
	const unknownUser = "6b1a3a80-0000-4000-8000-000000000000"
	keys := map[string]string{"admin": "admin-key-1234567890", "video": "video-key-1234567890", "register": "register-key-1234567890",
		"webhook": "webhook-key-1234567890", "prune": "prune-key-1234567890", "locked": "locked-key-1234567890", "none": "", "bogus": "not-a-key"}
	endpoints := []struct {
		method, path string
		body         any
		allowed      []string // key names that get past authentication
	}{
		{http.MethodGet, "/api/user/" + unknownUser, nil, []string{"admin", "video", "register", "webhook", "locked"}},
		{http.MethodGet, "/api/user?email=nobody@example.com", nil, []string{"admin", "video", "register", "webhook", "locked"}},
		{http.MethodPost, "/api/user", map[string]any{}, []string{"admin", "video", "locked"}},
		{http.MethodPatch, "/api/user/" + unknownUser, map[string]any{}, []string{"admin", "video", "register", "webhook", "prune", "locked"}},
		{http.MethodPut, "/api/user/" + unknownUser, map[string]any{}, []string{"admin", "locked"}},
		{http.MethodDelete, "/api/user/" + unknownUser, nil, []string{"admin", "locked"}},
		{http.MethodPost, "/api/user/search", map[string]any{"search": map[string]any{"queryString": "*"}}, []string{"admin", "prune", "locked"}},
		{http.MethodGet, "/api/user/search?queryString=*", nil, []string{"admin", "locked"}},
		{http.MethodDelete, "/api/user/bulk?userId=" + unknownUser + "&dryRun=true", nil, []string{"admin", "prune", "locked"}},
		{http.MethodPost, "/api/jwt/vend", map[string]any{}, []string{"admin", "video", "locked"}},
		// Global API key APIs: a tenant-locked key is refused even with no permission
		// list (a super key within its tenant).
		{http.MethodGet, "/api/key/" + s.Variable("signingKeyId"), nil, []string{"admin", "video", "register", "webhook"}},
		{http.MethodPost, "/api/key/generate/" + unknownUser, map[string]any{}, []string{"admin"}},
		// Webhooks are a global API since 1.66.0 (fusionauth-issues #3452); tenants stay
		// tenant-scoped (FusionAuth's endpoint list).
		{http.MethodPost, "/api/webhook", map[string]any{}, []string{"admin"}},
		{http.MethodPost, "/api/email/template", map[string]any{}, []string{"admin"}},
		{http.MethodPost, "/api/user/forgot-password", map[string]any{"loginId": "nobody@example.com"}, []string{"admin", "register", "locked", "none"}},
		{http.MethodPost, "/api/login", map[string]any{"loginId": "nobody@example.com", "password": "x"}, []string{"admin", "locked"}},
		{http.MethodPatch, "/api/tenant/" + s.Variable("defaultTenantId"), map[string]any{}, []string{"admin", "locked"}},
		{http.MethodGet, "/.well-known/jwks.json", nil, []string{"admin", "video", "register", "webhook", "prune", "locked", "none", "bogus"}},
	}
	for _, ep := range endpoints {
		for name, key := range keys {
			t.Run(ep.method+" "+ep.path+" with "+name, func(t *testing.T) {
				r := do(t, s, ep.method, ep.path, key, ep.body)
				if slices.Contains(ep.allowed, name) {
					if r.status == http.StatusUnauthorized {
						t.Fatalf("status = 401, want the %s key to be accepted", name)
					}
					return
				}
				wantStatus(t, r, http.StatusUnauthorized)
				wantEmpty(t, r)
			})
		}
	}
}

func TestTenantHeader(t *testing.T) {
	s, _ := newServer(t, fatest.Options{})
	k := keysOf(s)
	id := createUser(t, s, k.admin, map[string]any{"email": "tenant@example.com", "password": "long-enough-pw"})
	tests := map[string]struct {
		tenant     string
		wantStatus int
	}{
		"the user's tenant": {s.Variable("visitorTenantId"), http.StatusOK},
		"another tenant":    {s.Variable("defaultTenantId"), http.StatusNotFound},
		"unknown tenant":    {"6b1a3a80-0000-4000-8000-000000000000", http.StatusBadRequest},
		"malformed tenant":  {"nope", http.StatusBadRequest},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := do(t, s, http.MethodGet, "/api/user/"+id, k.admin, nil, "X-FusionAuth-TenantId", tc.tenant)
			wantStatus(t, r, tc.wantStatus)
		})
	}
}
