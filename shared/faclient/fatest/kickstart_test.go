package fatest_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/changebank/anonuser/shared/faclient/fatest"
)

func TestProjectKickstart(t *testing.T) {
	s, _ := newServer(t, fatest.Options{Variables: map[string]string{"webhookURL": "http://127.0.0.1:1/hook"}})
	k := keysOf(s)
	tenantID := s.Variable("defaultTenantId")
	if tenantID != "d7d09513-a3f5-401c-9685-34ab6c552453" {
		t.Fatalf("defaultTenantId = %q, want the kickstart's value", tenantID)
	}
	if got := s.Variable("FUSIONAUTH_TENANT_ID"); got != tenantID {
		t.Errorf("FUSIONAUTH_TENANT_ID = %q, want the pinned default tenant %q", got, tenantID)
	}
	checks := []struct {
		name, path, key string
		check           func(map[string]any) string
	}{
		{"tenant patched", "/api/tenant/" + tenantID, k.admin, func(b map[string]any) string {
			if got := path(b, "tenant.emailConfiguration.forgotPasswordEmailTemplateId"); got != s.Variable("forgotPasswordEmailTemplateId") {
				return "forgotPasswordEmailTemplateId = " + asString(got)
			}
			if got := path(b, "tenant.eventConfiguration.events.user.login.success"); got != nil {
				return "event keys must not be split on dots"
			}
			return ""
		}},
		{"application", "/api/application/" + s.Variable("applicationId"), k.admin, func(b map[string]any) string {
			if got := path(b, "application.jwtConfiguration.accessTokenKeyId"); got != s.Variable("signingKeyId") {
				return "accessTokenKeyId = " + asString(got)
			}
			return ""
		}},
		{"webhook with the overridden URL", "/api/webhook/" + s.Variable("userLoginSuccessWebhookId"), k.admin, func(b map[string]any) string {
			if got := path(b, "webhook.url"); got != "http://127.0.0.1:1/hook" {
				return "url = " + asString(got)
			}
			return ""
		}},
		{"signing key", "/api/key/" + s.Variable("signingKeyId"), k.video, func(b map[string]any) string {
			if path(b, "key.algorithm") != "RS256" {
				return "algorithm = " + asString(path(b, "key.algorithm"))
			}
			return ""
		}},
		{"email template", "/api/email/template/" + s.Variable("forgotPasswordEmailTemplateId"), k.admin, func(b map[string]any) string {
			if !strings.Contains(asString(path(b, "emailTemplate.defaultTextTemplate")), "${changePasswordId}") {
				return "the text template was not inlined from its file"
			}
			return ""
		}},
		{"admin user registered to the FusionAuth app", "/api/user/" + s.Variable("adminUserId"), k.admin, func(b map[string]any) string {
			regs, _ := path(b, "user.registrations").([]any)
			if len(regs) != 1 || path(regs[0].(map[string]any), "applicationId") != fatest.AdminApplicationID {
				return "registrations = " + string(must(regs))
			}
			return ""
		}},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			r := do(t, s, http.MethodGet, c.path, c.key, nil)
			wantStatus(t, r, http.StatusOK)
			if msg := c.check(r.body); msg != "" {
				t.Errorf("%s: %s", c.path, msg)
			}
		})
	}
	if s.TotalCalls() != len(checks) {
		t.Errorf("TotalCalls = %d, want %d (kickstart requests are not counted)", s.TotalCalls(), len(checks))
	}
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
    {"method": "POST", "url": "/api/user/#{randomId}", "body": {"user": {"username": "user-#{randomId}", "password": "long-enough-pw", "data": {"literal": "\\#{notAVariable}"}}}}
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
	r := do(t, s, http.MethodGet, "/api/email/template/"+s.Variable("templateId"), s.Variable("apiKey"), nil)
	wantStatus(t, r, http.StatusOK)
	if got := path(r.body, "emailTemplate.defaultHtmlTemplate"); got != `<p>Hello ${user.username!'there'}</p>` {
		t.Errorf("defaultHtmlTemplate = %v, want the included file", got)
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
			kickstart: `{"apiKeys": [{"key": "k-1234567890"}], "requests": [{"method": "POST", "url": "/api/theme/6b1a3a80-0000-4000-8000-000000000000", "body": {}}]}`,
			wantErr:   []string{"POST /api/theme/6b1a3a80-0000-4000-8000-000000000000", "does not implement"},
		},
		"request refused": {
			kickstart: `{"apiKeys": [{"key": "k-1234567890"}], "requests": [{"method": "POST", "url": "/api/user", "body": {"user": {"password": "long-enough-pw"}}}]}`,
			wantErr:   []string{"POST /api/user", "status 400", "[blank]user.email"},
		},
		"GET request": {
			kickstart: `{"apiKeys": [{"key": "k-1234567890"}], "requests": [{"method": "GET", "url": "/api/status"}]}`,
			wantErr:   []string{"GET /api/status", "POST, PUT and PATCH"},
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
	r := do(t, s, http.MethodGet, "/api/status", "", nil)
	wantStatus(t, r, http.StatusOK)
	r = do(t, s, http.MethodGet, "/.well-known/jwks.json", "", nil)
	wantStatus(t, r, http.StatusOK)
	if keys, _ := r.body["keys"].([]any); len(keys) != 0 {
		t.Errorf("JWKS of a bare server = %v, want no keys (the default HMAC key is never published)", keys)
	}
	wantStatus(t, do(t, s, http.MethodGet, "/api/user/6b1a3a80-0000-4000-8000-000000000000", "any-key", nil), http.StatusUnauthorized)
	wantStatus(t, do(t, s, http.MethodGet, "/api/nothing-here", "", nil), http.StatusNotImplemented)
}

func TestUnknownRoutes(t *testing.T) {
	s, _ := newServer(t, fatest.Options{})
	tests := map[string]struct {
		method, path string
		wantStatus   int
		wantAllow    string
	}{
		"known path, other method": {http.MethodPost, "/api/status", http.StatusMethodNotAllowed, "GET"},
		"unknown path":             {http.MethodGet, "/api/theme", http.StatusNotImplemented, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := do(t, s, tc.method, tc.path, keysOf(s).admin, nil)
			wantStatus(t, r, tc.wantStatus)
			wantEmpty(t, r)
			if got := r.header.Get("Allow"); got != tc.wantAllow {
				t.Errorf("Allow = %q, want %q", got, tc.wantAllow)
			}
		})
	}
}
