package fatest_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/changebank/anonuser/shared/faclient/fatest"
)

func TestProjectKickstart(t *testing.T) {
	s, _ := newServer(t, fatest.Options{Variables: map[string]string{"webhookURL": "http://127.0.0.1:1/hook"}})
	if n := s.TotalCalls(); n != 0 {
		t.Errorf("TotalCalls after start = %d, want 0 (kickstart requests are not counted)", n)
	}
	k := keysOf(s)
	tenantID := s.Variable("defaultTenantId")
	if tenantID != "d7d09513-a3f5-401c-9685-34ab6c552453" {
		t.Fatalf("defaultTenantId = %q, want the kickstart's value", tenantID)
	}
	if got := s.Variable("FUSIONAUTH_TENANT_ID"); got != tenantID {
		t.Errorf("FUSIONAUTH_TENANT_ID = %q, want the pinned default tenant %q", got, tenantID)
	}
	t.Run("signing key", func(t *testing.T) {
		r := do(t, s, http.MethodGet, "/api/key/"+s.Variable("signingKeyId"), k.admin, nil)
		wantStatus(t, r, http.StatusOK)
		if path(r.body, "key.algorithm") != "RS256" {
			t.Errorf("key = %s, want RS256", r.raw)
		}
	})
	t.Run("admin user registered to the FusionAuth app", func(t *testing.T) {
		// The admin lives in the Default tenant, outside the visitors'.
		r := do(t, s, http.MethodGet, "/api/user/"+s.Variable("adminUserId"), k.admin, nil, "X-FusionAuth-TenantId", "")
		wantStatus(t, r, http.StatusOK)
		regs, _ := path(r.body, "user.registrations").([]any)
		if len(regs) != 1 || path(regs[0].(map[string]any), "applicationId") != fatest.AdminApplicationID {
			t.Errorf("registrations = %s, want one to the FusionAuth application", must(regs))
		}
	})
	t.Run("tenant sends the forgot-password template, inlined from its files", func(t *testing.T) {
		r := do(t, s, http.MethodPost, "/api/user/forgot-password", k.admin, map[string]any{"loginId": s.Variable("regularEmail")})
		wantStatus(t, r, http.StatusOK)
		out := s.Outbox()
		if len(out) != 1 || out[0].TemplateID != s.Variable("forgotPasswordEmailTemplateId") ||
			!strings.Contains(out[0].Text, "/password/change/"+asString(r.body["changePasswordId"])) {
			t.Errorf("outbox = %+v, want the kickstart's template with the change-password link", out)
		}
	})
	t.Run("application signs with the signing key; login webhook goes to the overridden URL", func(t *testing.T) {
		r := do(t, s, http.MethodPost, "/api/login", k.admin, map[string]any{
			"loginId": s.Variable("regularEmail"), "password": s.Variable("regularPassword"), "applicationId": s.Variable("applicationId")})
		wantStatus(t, r, http.StatusOK)
		key := do(t, s, http.MethodGet, "/api/key/"+s.Variable("signingKeyId"), k.admin, nil)
		if got, want := tokenKID(t, asString(r.body["token"])), path(key.body, "key.kid"); got != want {
			t.Errorf("token kid = %q, want the signing key's %v", got, want)
		}
		if d := s.Deliveries(); len(d) == 0 || d[0].URL != "http://127.0.0.1:1/hook" || d[0].EventType != "user.login.success" {
			t.Errorf("deliveries = %+v, want user.login.success sent to the overridden webhook URL", d)
		}
	})
}

// tokenKID returns the kid of a compact JWS's header.
func tokenKID(tb testing.TB, token string) string {
	tb.Helper()
	header, _, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(header)
	if err != nil {
		tb.Fatalf("decode JWT header of %q: %v", token, err)
	}
	var h struct {
		KID string `json:"kid"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		tb.Fatalf("parse JWT header %s: %v", raw, err)
	}
	return h.KID
}

// writeKickstart writes files into a temp dir and returns the kickstart path.
func writeKickstart(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "kickstart.json")
}

func TestKickstartFeatures(t *testing.T) {
	t.Setenv("FATEST_KICKSTART_KEY", "key-from-env-1234567890")
	ksPath := writeKickstart(t, map[string]string{
		"kickstart.json": `{
  "variables": {
    "apiKey": "#{ENV.FATEST_KICKSTART_KEY}",
    "randomId": "#{UUID()}",
    "defaultTenantId": "aaaaaaaa-1111-4222-8333-444444444444",
    "templateId": "bbbbbbbb-1111-4222-8333-444444444444"
  },
  "apiKeys": [{"key": "#{apiKey}"}],
  "requests": [
    "&{requests/template.json}",
    {"method": "POST", "url": "/api/user/#{randomId}", "body": {"user": {"username": "user-#{randomId}", "email": "kick@example.com", "password": "long-enough-pw", "data": {"literal": "\\#{notAVariable}"}}}},
    {"method": "PATCH", "url": "/api/tenant/#{defaultTenantId}", "body": {"tenant": {"emailConfiguration": {"forgotPasswordEmailTemplateId": "#{templateId}"}}}}
  ]
}`,
		"requests/template.json": `{"method": "POST", "url": "api/email/template/#{templateId}", "body": {"emailTemplate": {"name": "T", "defaultSubject": "Hi", "defaultHtmlTemplate": "@{templates/body.ftl}", "defaultTextTemplate": "text ${changePasswordId}"}}}`,
		"templates/body.ftl":     `<p>Hello ${user.username!'there'}</p>`,
	})
	s := fatest.NewTestServer(t, fatest.Options{Kickstart: ksPath})
	if got := s.Variable("apiKey"); got != "key-from-env-1234567890" {
		t.Errorf("apiKey = %q, want the environment value", got)
	}
	randomID := s.Variable("randomId")
	if len(randomID) != 36 {
		t.Fatalf("randomId = %q, want a UUID", randomID)
	}
	if got := s.Variable("FUSIONAUTH_TENANT_ID"); got != "aaaaaaaa-1111-4222-8333-444444444444" {
		t.Errorf("FUSIONAUTH_TENANT_ID = %q, want the defaultTenantId", got)
	}
	u, ok := s.User(randomID)
	if !ok {
		t.Fatalf("user %s from the kickstart not found", randomID)
	}
	if u["username"] != "user-"+randomID || path(u, "data.literal") != "#{notAVariable}" {
		t.Errorf("user = %v, want substituted username and an escaped literal", u)
	}
	if u["tenantId"] != "aaaaaaaa-1111-4222-8333-444444444444" {
		t.Errorf("tenantId = %v, want the pinned default tenant", u["tenantId"])
	}
	// The included file is the template the tenant's forgot-password email renders.
	r := do(t, s, http.MethodPost, "/api/user/forgot-password", s.Variable("apiKey"), map[string]any{"loginId": "kick@example.com"})
	wantStatus(t, r, http.StatusOK)
	if out := s.Outbox(); len(out) != 1 || out[0].HTML != "<p>Hello user-"+randomID+"</p>" {
		t.Errorf("outbox = %+v, want one email rendered from the included file", out)
	}
}

func TestKickstartErrors(t *testing.T) {
	const okTemplate = `"body": {"emailTemplate": {"name": "T", "defaultSubject": "S", "defaultHtmlTemplate": "H", "defaultTextTemplate": "T"}}`
	tests := map[string]struct {
		kickstart string
		wantErr   []string // substrings of the error
	}{
		"unknown top-level key": {
			kickstart: `{"apiKeys": [{"key": "k-1234567890"}], "requestz": []}`,
			wantErr:   []string{`"requestz"`},
		},
		"unimplemented endpoint": {
			kickstart: `{"apiKeys": [{"key": "k-1234567890"}], "requests": [{"method": "POST", "url": "/api/lambda/6b1a3a80-0000-4000-8000-000000000000", "body": {}}]}`,
			wantErr:   []string{"POST /api/lambda/6b1a3a80-0000-4000-8000-000000000000", "Lambdas API", "is not implemented"},
		},
		"request refused": {
			kickstart: `{"apiKeys": [{"key": "k-1234567890"}], "requests": [{"method": "POST", "url": "/api/user", "body": {"user": {"password": "long-enough-pw"}}}]}`,
			wantErr:   []string{"POST /api/user", "status 400", "[blank]user.email"},
		},
		"GET request": {
			kickstart: `{"apiKeys": [{"key": "k-1234567890"}], "requests": [{"method": "GET", "url": "/.well-known/jwks.json"}]}`,
			wantErr:   []string{"GET /.well-known/jwks.json", "POST, PUT and PATCH"},
		},
		"restricted first key": {
			kickstart: `{"apiKeys": [{"key": "k-1234567890", "permissions": {"endpoints": {"/api/user": ["GET"]}}}]}`,
			wantErr:   []string{"apiKeys[0]", "unrestricted"},
		},
		"unknown variable": {
			kickstart: `{"apiKeys": [{"key": "#{nope}"}]}`,
			wantErr:   []string{"#{nope}"},
		},
		"unsupported template directive": {
			kickstart: `{"apiKeys": [{"key": "k-1234567890"}], "requests": [{"method": "POST", "url": "/api/email/template", "body": {"emailTemplate": {"name": "T", "defaultSubject": "S", "defaultHtmlTemplate": "[#list items as i]${i}[/#list]", "defaultTextTemplate": "T"}}}]}`,
			wantErr:   []string{"status 400", "[#list]"},
		},
		"unsupported template built-in": {
			kickstart: `{"apiKeys": [{"key": "k-1234567890"}], "requests": [{"method": "POST", "url": "/api/email/template", "body": {"emailTemplate": {"name": "T", "defaultSubject": "S", "defaultHtmlTemplate": "${user.email?upper_case}", "defaultTextTemplate": "T"}}}]}`,
			wantErr:   []string{"?upper_case"},
		},
		"missing include": {
			kickstart: `{"apiKeys": [{"key": "k-1234567890"}], "requests": [{"method": "POST", "url": "/api/email/template", ` + strings.Replace(okTemplate, `"H"`, `"@{missing.ftl}"`, 1) + `}]}`,
			wantErr:   []string{"missing.ftl"},
		},
		"unknown request key": {
			kickstart: `{"apiKeys": [{"key": "k-1234567890"}], "requests": [{"method": "POST", "url": "/api/email/template", "headers": {}, ` + okTemplate + `}]}`,
			wantErr:   []string{`"headers"`},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := writeKickstart(t, map[string]string{"kickstart.json": tc.kickstart})
			s, err := fatest.Start(fatest.Options{Kickstart: p})
			if err == nil {
				_ = s.Close()
				t.Fatalf("Start = nil error, want one mentioning %q", tc.wantErr)
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

func TestBareServer(t *testing.T) {
	s, err := fatest.Start(fatest.Options{})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	r := do(t, s, http.MethodGet, "/.well-known/jwks.json", "", nil)
	wantStatus(t, r, http.StatusOK)
	// A fresh install publishes its RSA key pair; the default HMAC key never.
	if keys, _ := r.body["keys"].([]any); len(keys) != 1 || path(keys[0].(map[string]any), "kty") != "RSA" {
		t.Errorf("JWKS of a bare server = %v, want the fresh install's one RSA key", keys)
	}
	wantStatus(t, do(t, s, http.MethodGet, "/api/user/6b1a3a80-0000-4000-8000-000000000000", "any-key", nil), http.StatusUnauthorized)
	wantStatus(t, do(t, s, http.MethodGet, "/api/nothing-here", "", nil), http.StatusNotImplemented)
}

// TestUnknownRoutes: what the server does not serve is refused as FusionAuth documents
// 405 and 501 (no body), naming the FusionAuth API in NotImplementedHeader; what it
// serves carries no such header.
func TestUnknownRoutes(t *testing.T) {
	s, _ := newServer(t, fatest.Options{})
	tests := map[string]struct {
		method, path string
		wantStatus   int
		wantAllow    string
		wantAPI      string // the start of NotImplementedHeader, "" for none
	}{
		"known path, other method":   {http.MethodPost, "/.well-known/jwks.json", http.StatusMethodNotAllowed, "GET", "OAuth endpoints: POST /.well-known/jwks.json"},
		"implemented API, other op":  {http.MethodGet, "/api/webhook/6b1a3a80-0000-4000-8000-000000000000", http.StatusMethodNotAllowed, "POST", "Webhooks API: GET /api/webhook/"},
		"unknown path":               {http.MethodGet, "/api/lambda", http.StatusNotImplemented, "", "Lambdas API: GET /api/lambda "},
		"longest prefix names it":    {http.MethodPost, "/api/user/family", http.StatusNotImplemented, "", "Families API: POST /api/user/family "},
		"path of no FusionAuth API":  {http.MethodGet, "/api/nothing-here", http.StatusNotImplemented, "", "no FusionAuth API: GET /api/nothing-here "},
		"prefix is not a path match": {http.MethodGet, "/api/keyring", http.StatusNotImplemented, "", "no FusionAuth API: "},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := do(t, s, tc.method, tc.path, keysOf(s).admin, nil)
			wantStatus(t, r, tc.wantStatus)
			wantEmpty(t, r)
			if got := r.header.Get("Allow"); got != tc.wantAllow {
				t.Errorf("Allow = %q, want %q", got, tc.wantAllow)
			}
			if got := r.header.Get(fatest.NotImplementedHeader); !strings.HasPrefix(got, tc.wantAPI) || !strings.Contains(got, "not implemented") {
				t.Errorf("%s = %q, want it to start %q and say not implemented", fatest.NotImplementedHeader, got, tc.wantAPI)
			}
		})
	}
	if r := do(t, s, http.MethodGet, "/.well-known/jwks.json", "", nil); r.header.Get(fatest.NotImplementedHeader) != "" {
		t.Errorf("a served request carries %s: %q", fatest.NotImplementedHeader, r.header.Get(fatest.NotImplementedHeader))
	}
}
