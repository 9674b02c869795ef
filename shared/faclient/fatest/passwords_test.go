package fatest_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/changebank/anonuser/shared/faclient/fatest"
)

func TestForgotPasswordEmail(t *testing.T) {
	tests := map[string]struct {
		state       map[string]any
		wantSubject string
		wantQuery   string // after ?tenantId=…
	}{
		"anonymous user": {
			state:       map[string]any{"anon_user": "true"},
			wantSubject: "Set your ChangeBank password",
			wantQuery:   "&anon_user=true",
		},
		"state value is URL-escaped": {
			state:       map[string]any{"anon_user": "a b&c/é"},
			wantSubject: "Set your ChangeBank password",
			wantQuery:   "&anon_user=a%20b%26c%2F%C3%A9",
		},
		"no state": {
			wantSubject: "Change your ChangeBank password",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s, c := newServer(t, fatest.Options{})
			k := keysOf(s)
			id := createUser(t, s, k.admin, map[string]any{"email": "Forgot@Example.com", "password": "long-enough-pw"})
			body := map[string]any{"loginId": "FORGOT@example.com"}
			if tc.state != nil {
				body["state"] = tc.state
			}
			r := do(t, s, http.MethodPost, "/api/user/forgot-password", k.register, body)
			wantStatus(t, r, http.StatusOK)
			cpID := asString(r.body["changePasswordId"])
			if len(cpID) != 43 {
				t.Fatalf("changePasswordId = %q, want 43 base64url characters", cpID)
			}
			out := s.Outbox()
			if len(out) != 1 {
				t.Fatalf("Outbox has %d emails, want 1", len(out))
			}
			e := out[0]
			wantLink := s.URL() + "/password/change/" + cpID + "?tenantId=" + s.Variable("visitorTenantId") + tc.wantQuery
			checks := map[string][2]string{
				"To":               {e.To, "forgot@example.com"},
				"From":             {e.From, "no-reply@changebank.example"},
				"Subject":          {e.Subject, tc.wantSubject},
				"TemplateID":       {e.TemplateID, s.Variable("forgotPasswordEmailTemplateId")},
				"ChangePasswordID": {e.ChangePasswordID, cpID},
				"UserID":           {e.UserID, id},
				"Link":             {e.Link, wantLink},
			}
			for field, gw := range checks {
				if gw[0] != gw[1] {
					t.Errorf("Email.%s = %q, want %q", field, gw[0], gw[1])
				}
			}
			if !strings.Contains(e.HTML, `href="`+wantLink+`"`) && !strings.Contains(e.HTML, `href="`+strings.ReplaceAll(wantLink, "&", "&amp;")+`"`) {
				t.Errorf("HTML body lacks the link %s:\n%s", wantLink, e.HTML)
			}
			if strings.Contains(e.Text, "${") || strings.Contains(e.Text, "[#") {
				t.Errorf("text body has unrendered template syntax:\n%s", e.Text)
			}
			if !e.SentAt.Equal(c.Now()) {
				t.Errorf("SentAt = %v, want the server clock %v", e.SentAt, c.Now())
			}
			if got := asString(e.State["anon_user"]); tc.state != nil && got != tc.state["anon_user"] {
				t.Errorf("State.anon_user = %q, want %q", got, tc.state["anon_user"])
			}
		})
	}
}

func TestForgotPasswordStatuses(t *testing.T) {
	s, _ := newServer(t, fatest.Options{})
	k := keysOf(s)
	createUser(t, s, k.admin, map[string]any{"email": "has-email@example.com", "password": "long-enough-pw"})
	createUser(t, s, k.admin, map[string]any{"username": "no-email-user", "password": "long-enough-pw"})
	createUser(t, s, k.admin, map[string]any{"username": "data-email-user", "password": "long-enough-pw", "data": map[string]any{"email": "data@example.com"}})
	tests := map[string]struct {
		key        string
		body       map[string]any
		wantStatus int
		wantBody   bool // a JSON body with changePasswordId
		wantEmails int
	}{
		"with a key":                        {k.register, map[string]any{"loginId": "has-email@example.com"}, http.StatusOK, true, 1},
		"without a key: empty body":         {"", map[string]any{"loginId": "has-email@example.com"}, http.StatusOK, false, 1},
		"sendForgotPasswordEmail false":     {k.register, map[string]any{"loginId": "has-email@example.com", "sendForgotPasswordEmail": false}, http.StatusOK, true, 0},
		"sendForgotPasswordMessage false":   {k.register, map[string]any{"loginId": "has-email@example.com", "sendForgotPasswordMessage": false}, http.StatusOK, true, 0},
		"without a key the flag is ignored": {"", map[string]any{"loginId": "has-email@example.com", "sendForgotPasswordEmail": false}, http.StatusOK, false, 1},
		"unknown loginId":                   {k.register, map[string]any{"loginId": "nobody@example.com"}, http.StatusNotFound, false, 0},
		"user without email":                {k.register, map[string]any{"loginId": "no-email-user"}, http.StatusUnprocessableEntity, false, 0},
		"user without email, no send":       {k.register, map[string]any{"loginId": "no-email-user", "sendForgotPasswordMessage": false}, http.StatusOK, true, 0},
		"data.email is used when no email":  {k.register, map[string]any{"loginId": "data-email-user"}, http.StatusOK, true, 1},
		"missing loginId":                   {k.register, map[string]any{}, http.StatusBadRequest, false, 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			before := len(s.Outbox())
			// Without a key, FusionAuth needs the tenant from the header once there are two.
			r := do(t, s, http.MethodPost, "/api/user/forgot-password", tc.key, tc.body, "X-FusionAuth-TenantId", s.Variable("visitorTenantId"))
			wantStatus(t, r, tc.wantStatus)
			switch {
			case tc.wantBody && asString(r.body["changePasswordId"]) == "":
				t.Errorf("body = %s, want a changePasswordId", r.raw)
			case !tc.wantBody && tc.wantStatus != http.StatusBadRequest:
				wantEmpty(t, r)
			}
			if got := len(s.Outbox()) - before; got != tc.wantEmails {
				t.Errorf("emails sent = %d, want %d", got, tc.wantEmails)
			}
		})
	}
}

func TestForgotPasswordWithoutTemplate(t *testing.T) {
	ks := writeKickstart(t, map[string]string{"kickstart.json": `{"apiKeys": [{"key": "admin-key-1234567890"}], "requests": [
		{"method": "POST", "url": "/api/user", "body": {"user": {"email": "a@example.com", "password": "long-enough-pw"}}}]}`})
	s := fatest.NewTestServer(t, fatest.Options{Kickstart: ks})
	r := do(t, s, http.MethodPost, "/api/user/forgot-password", "admin-key-1234567890", map[string]any{"loginId": "a@example.com"})
	wantStatus(t, r, http.StatusForbidden)
	r = do(t, s, http.MethodPost, "/api/user/forgot-password", "admin-key-1234567890", map[string]any{"loginId": "a@example.com", "sendForgotPasswordMessage": false})
	wantStatus(t, r, http.StatusOK)
}

// forgot starts forgot password for loginID (without sending) and returns the id.
func forgot(tb testing.TB, s *fatest.Server, loginID string, send bool) string {
	tb.Helper()
	r := do(tb, s, http.MethodPost, "/api/user/forgot-password", keysOf(s).admin, map[string]any{"loginId": loginID, "sendForgotPasswordMessage": send, "state": map[string]any{"anon_user": "true"}})
	wantStatus(tb, r, http.StatusOK)
	return asString(r.body["changePasswordId"])
}

func TestChangePassword(t *testing.T) {
	s, _ := newServer(t, fatest.Options{})
	k := keysOf(s)
	createUser(t, s, k.admin, map[string]any{"email": "change@example.com", "password": "old-password-1"})
	id := forgot(t, s, "change@example.com", true)

	wantStatus(t, do(t, s, http.MethodGet, "/api/user/change-password/"+id, "", nil), http.StatusOK)
	r := do(t, s, http.MethodPost, "/api/user/change-password", "", map[string]any{"changePasswordId": id, "password": "short"})
	wantStatus(t, r, http.StatusBadRequest)
	wantFieldError(t, r, "password", "[tooShort]password")

	r = do(t, s, http.MethodPost, "/api/user/change-password", "", map[string]any{"changePasswordId": id, "password": "new-password-1"})
	wantStatus(t, r, http.StatusOK)
	otp := asString(r.body["oneTimePassword"])
	if otp == "" || path(r.body, "state.anon_user") != "true" {
		t.Fatalf("body = %s, want oneTimePassword and the forgot-password state", r.raw)
	}

	t.Run("the id is single use", func(t *testing.T) {
		wantStatus(t, do(t, s, http.MethodGet, "/api/user/change-password/"+id, "", nil), http.StatusNotFound)
		r := do(t, s, http.MethodPost, "/api/user/change-password", "", map[string]any{"changePasswordId": id, "password": "another-password"})
		wantStatus(t, r, http.StatusNotFound)
		wantEmpty(t, r)
	})
	t.Run("the new password logs in, the old one does not", func(t *testing.T) {
		wantStatus(t, do(t, s, http.MethodPost, "/api/login", k.admin, map[string]any{"loginId": "change@example.com", "password": "new-password-1"}), http.StatusOK)
		wantStatus(t, do(t, s, http.MethodPost, "/api/login", k.admin, map[string]any{"loginId": "change@example.com", "password": "old-password-1"}), http.StatusNotFound)
	})
	t.Run("the one-time password logs in once", func(t *testing.T) {
		r := do(t, s, http.MethodPost, "/api/login", k.admin, map[string]any{"oneTimePassword": otp})
		wantStatus(t, r, http.StatusOK)
		if path(r.body, "user.email") != "change@example.com" {
			t.Errorf("user = %v, want change@example.com", path(r.body, "user.email"))
		}
		wantStatus(t, do(t, s, http.MethodPost, "/api/login", k.admin, map[string]any{"oneTimePassword": otp}), http.StatusNotFound)
	})
}

func TestChangePasswordIDs(t *testing.T) {
	tests := map[string]struct {
		run func(t *testing.T, s *fatest.Server, c *clock)
	}{
		"expires after the tenant's 600 s": {func(t *testing.T, s *fatest.Server, c *clock) {
			id := forgot(t, s, "ids@example.com", false)
			c.Advance(599 * time.Second)
			wantStatus(t, do(t, s, http.MethodGet, "/api/user/change-password/"+id, "", nil), http.StatusOK)
			c.Advance(time.Second)
			wantStatus(t, do(t, s, http.MethodGet, "/api/user/change-password/"+id, "", nil), http.StatusNotFound)
			wantStatus(t, do(t, s, http.MethodPost, "/api/user/change-password", "", map[string]any{"changePasswordId": id, "password": "new-password-1"}), http.StatusNotFound)
		}},
		"a changed tenant TTL applies": {func(t *testing.T, s *fatest.Server, c *clock) {
			r := do(t, s, http.MethodPatch, "/api/tenant/"+s.Variable("visitorTenantId"), keysOf(s).admin,
				map[string]any{"tenant": map[string]any{"externalIdentifierConfiguration": map[string]any{"changePasswordIdTimeToLiveInSeconds": 30}}})
			wantStatus(t, r, http.StatusOK)
			id := forgot(t, s, "ids@example.com", false)
			c.Advance(31 * time.Second)
			wantStatus(t, do(t, s, http.MethodGet, "/api/user/change-password/"+id, "", nil), http.StatusNotFound)
		}},
		"a change revokes the user's other ids": {func(t *testing.T, s *fatest.Server, c *clock) {
			first := forgot(t, s, "ids@example.com", false)
			second := forgot(t, s, "ids@example.com", false)
			wantStatus(t, do(t, s, http.MethodPost, "/api/user/change-password", "", map[string]any{"changePasswordId": second, "password": "new-password-1"}), http.StatusOK)
			wantStatus(t, do(t, s, http.MethodGet, "/api/user/change-password/"+first, "", nil), http.StatusNotFound)
		}},
		"deprecated path form, body id wins": {func(t *testing.T, s *fatest.Server, c *clock) {
			id := forgot(t, s, "ids@example.com", false)
			wantStatus(t, do(t, s, http.MethodPost, "/api/user/change-password/unknown-id", "", map[string]any{"changePasswordId": id, "password": "new-password-1"}), http.StatusOK)
			id = forgot(t, s, "ids@example.com", false)
			wantStatus(t, do(t, s, http.MethodPost, "/api/user/change-password/"+id, "", map[string]any{"password": "new-password-2"}), http.StatusOK)
		}},
		"wrong currentPassword without a key": {func(t *testing.T, s *fatest.Server, c *clock) {
			id := forgot(t, s, "ids@example.com", false)
			r := do(t, s, http.MethodPost, "/api/user/change-password", "", map[string]any{"changePasswordId": id, "currentPassword": "wrong-password", "password": "new-password-1"})
			wantStatus(t, r, http.StatusNotFound)
		}},
		"the loginId form is not implemented": {func(t *testing.T, s *fatest.Server, c *clock) {
			body := map[string]any{"loginId": "ids@example.com", "currentPassword": "old-password-1", "password": "new-password-1"}
			r := do(t, s, http.MethodPost, "/api/user/change-password", keysOf(s).admin, body)
			wantStatus(t, r, http.StatusBadRequest)
			if got := generalCodes(r); !slices.Contains(got, "[UnsupportedRequest]") {
				t.Errorf("generalErrors = %v, want [UnsupportedRequest]", got)
			}
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s, c := newServer(t, fatest.Options{})
			createUser(t, s, keysOf(s).admin, map[string]any{"email": "ids@example.com", "password": "old-password-1"})
			tc.run(t, s, c)
		})
	}
}

func TestChangePasswordVerifiesEmail(t *testing.T) {
	tests := map[string]struct {
		send         bool
		wantVerified bool
	}{
		"id sent by email verifies": {send: true, wantVerified: true},
		"id not sent does not":      {send: false, wantVerified: false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s, _ := newServer(t, fatest.Options{})
			k := keysOf(s)
			r := do(t, s, http.MethodPatch, "/api/tenant/"+s.Variable("visitorTenantId"), k.admin,
				map[string]any{"tenant": map[string]any{"emailConfiguration": map[string]any{"verifyEmail": true}}})
			wantStatus(t, r, http.StatusOK)
			id := createUser(t, s, k.admin, map[string]any{"email": "verify@example.com", "password": "old-password-1"})
			if u, _ := s.User(id); u["verified"] != false {
				t.Fatalf("verified = %v after create, want false when the tenant verifies email", u["verified"])
			}
			cp := forgot(t, s, "verify@example.com", tc.send)
			wantStatus(t, do(t, s, http.MethodPost, "/api/user/change-password", "", map[string]any{"changePasswordId": cp, "password": "new-password-1"}), http.StatusOK)
			if u, _ := s.User(id); u["verified"] != tc.wantVerified {
				t.Errorf("verified = %v, want %v", u["verified"], tc.wantVerified)
			}
		})
	}
}
