package contract_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/changebank/anonuser/shared/faclient"
)

// TestForgotPassword: with an API key, POST /api/user/forgot-password answers 200
// {"changePasswordId"} (a 32-byte base64url id) and, unless told not to, sends the
// tenant's forgot-password email to the user's (lower-cased) address, rendered with the
// state; 404 for an unknown login id, 422 for a user without an email (§9.1).
func TestForgotPassword(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		no := false
		tests := map[string]struct {
			user        *faclient.User // nil = no such user
			loginID     func(u *faclient.User) string
			send        *bool
			state       map[string]any
			wantStatus  int
			wantEmail   bool
			wantSubject string
		}{
			"sends the email with the state": {
				user:        &faclient.User{Email: uniqueEmail("Forgot-MIXED"), Password: testPassword},
				loginID:     func(u *faclient.User) string { return mixCase(u.Email) },
				state:       map[string]any{"anon_user": "true"},
				wantStatus:  http.StatusOK,
				wantEmail:   true,
				wantSubject: "Set your ChangeBank password",
			},
			"without state": {
				user:        &faclient.User{Email: uniqueEmail("forgot"), Password: testPassword},
				loginID:     func(u *faclient.User) string { return u.Email },
				wantStatus:  http.StatusOK,
				wantEmail:   true,
				wantSubject: "Change your ChangeBank password",
			},
			"by username": {
				user:        &faclient.User{Email: uniqueEmail("forgot"), Username: "contract-" + randomHex(5), Password: testPassword},
				loginID:     func(u *faclient.User) string { return u.Username },
				wantStatus:  http.StatusOK,
				wantEmail:   true,
				wantSubject: "Change your ChangeBank password",
			},
			"send disabled": {
				user:       &faclient.User{Email: uniqueEmail("forgot"), Password: testPassword},
				loginID:    func(u *faclient.User) string { return u.Email },
				send:       &no,
				state:      map[string]any{"anon_user": "true"},
				wantStatus: http.StatusOK,
			},
			"unknown login id": {
				loginID:    func(*faclient.User) string { return uniqueEmail("nobody") },
				wantStatus: http.StatusNotFound,
			},
			"user without email": {
				user:       &faclient.User{Username: "contract-" + randomHex(6), Password: testPassword},
				loginID:    func(u *faclient.User) string { return u.Username },
				wantStatus: http.StatusUnprocessableEntity,
			},
		}
		for name, tc := range tests {
			t.Run(name, func(t *testing.T) {
				e := tg.open(t)
				var user faclient.User
				if tc.user != nil {
					user = e.createUser(t, faclient.UserRequest{User: *tc.user}).User
				}
				resp, err := e.admin.ForgotPassword(context.Background(), faclient.ForgotPasswordRequest{
					LoginID: tc.loginID(&user), SendForgotPasswordEmail: tc.send, State: tc.state,
				})
				if got := statusOf(err); got != tc.wantStatus {
					t.Fatalf("status = %d (%v), want %d", got, err, tc.wantStatus)
				}
				if err != nil {
					return
				}
				if b, err := base64.RawURLEncoding.DecodeString(resp.ChangePasswordID); err != nil || len(b) != 32 {
					t.Errorf("changePasswordId = %q, want 32 random bytes in base64url (§9.1)", resp.ChangePasswordID)
				}
				if !e.compat() {
					return // the real server's outbox is an SMTP server this suite does not read
				}
				outbox := e.srv.Outbox()
				if !tc.wantEmail {
					if len(outbox) != 0 {
						t.Errorf("outbox = %d emails, want none when sendForgotPasswordEmail is false", len(outbox))
					}
					return
				}
				if len(outbox) != 1 {
					t.Fatalf("outbox = %d emails, want 1", len(outbox))
				}
				m := outbox[0]
				if m.To != strings.ToLower(user.Email) || m.UserID != user.ID {
					t.Errorf("email to %q (user %s), want %q (user %s)", m.To, m.UserID, strings.ToLower(user.Email), user.ID)
				}
				if want := e.variable(t, "forgotPasswordEmailTemplateId"); !strings.EqualFold(m.TemplateID, want) {
					t.Errorf("template = %q, want the tenant's forgot-password template %q", m.TemplateID, want)
				}
				if m.ChangePasswordID != resp.ChangePasswordID || !strings.Contains(m.Link, resp.ChangePasswordID) || !strings.Contains(m.Text, m.Link) {
					t.Errorf("email id %q, link %q, want the id %q in the link and the link in the text", m.ChangePasswordID, m.Link, resp.ChangePasswordID)
				}
				if !reflect.DeepEqual(m.State, tc.state) && (len(m.State) != 0 || len(tc.state) != 0) {
					t.Errorf("email state = %v, want %v", m.State, tc.state)
				}
				if m.Subject != tc.wantSubject {
					t.Errorf("subject = %q, want %q (the kickstart template branches on state.anon_user)", m.Subject, tc.wantSubject)
				}
				if tc.state["anon_user"] != nil && !strings.Contains(m.Link, "anon_user=true") {
					t.Errorf("link = %q, want the state's anon_user in it", m.Link)
				}
			})
		}
	})
}

// TestForgotPasswordWithoutKey: without an API key the call still starts the flow and
// sends the email, but answers 200 with no body (§9.1).
func TestForgotPasswordWithoutKey(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		e := tg.open(t)
		u := e.createUser(t, faclient.UserRequest{User: faclient.User{Email: uniqueEmail("nokey"), Password: testPassword}}).User
		resp := e.raw(t, http.MethodPost, "/api/user/forgot-password", "", map[string]any{"loginId": u.Email})
		if resp.Status != http.StatusOK || len(resp.Body) != 0 {
			t.Fatalf("got %d %q, want 200 with no body", resp.Status, resp.Body)
		}
		if e.compat() {
			if outbox := e.srv.Outbox(); len(outbox) != 1 || outbox[0].UserID != u.ID {
				t.Errorf("outbox = %+v, want one email to user %s", outbox, u.ID)
			}
		}
	})
}

// TestChangePassword: a changePasswordId sets a new password once (200 with a one-time
// password and the forgot-password state), then is 404; the new password logs in
// (200 without an application, 202 for an application the user is not registered
// to), the old one no longer does (404), and the one-time password logs in (§9.3, §11).
func TestChangePassword(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		e := tg.open(t)
		ctx := context.Background()
		email := uniqueEmail("change")
		u := e.createUser(t, faclient.UserRequest{User: faclient.User{Email: email, Password: testPassword}}).User
		state := map[string]any{"anon_user": "true", "returnTo": "/video"}
		no := false
		fp, err := e.admin.ForgotPassword(ctx, faclient.ForgotPasswordRequest{LoginID: email, SendForgotPasswordEmail: &no, State: state})
		if err != nil {
			t.Fatalf("forgot password: %v", err)
		}
		const newPassword = "a-brand-new-password-2"
		anon := e.client(t, "")
		var oneTimePassword string
		steps := []struct {
			name       string
			do         func(t *testing.T) (int, error)
			wantStatus int
		}{
			{"check the id", func(t *testing.T) (int, error) {
				return checkChangePasswordID(t, e, fp.ChangePasswordID), nil
			}, http.StatusOK},
			{"too short a password", func(t *testing.T) (int, error) {
				_, err := anon.ChangePassword(ctx, fp.ChangePasswordID, faclient.ChangePasswordRequest{Password: "short"})
				return statusOf(err), err
			}, http.StatusBadRequest},
			{"change", func(t *testing.T) (int, error) {
				resp, err := anon.ChangePassword(ctx, fp.ChangePasswordID, faclient.ChangePasswordRequest{Password: newPassword})
				if err != nil {
					return statusOf(err), err
				}
				oneTimePassword = resp.OneTimePassword
				if resp.OneTimePassword == "" {
					t.Errorf("oneTimePassword empty, want one (§9.3)")
				}
				if !reflect.DeepEqual(resp.State, state) {
					t.Errorf("state = %v, want the forgot-password state %v (§9.3)", resp.State, state)
				}
				return http.StatusOK, nil
			}, http.StatusOK},
			{"reuse the id", func(t *testing.T) (int, error) {
				_, err := anon.ChangePassword(ctx, fp.ChangePasswordID, faclient.ChangePasswordRequest{Password: "yet-another-password-3"})
				return statusOf(err), err
			}, http.StatusNotFound},
			{"check the used id", func(t *testing.T) (int, error) {
				return checkChangePasswordID(t, e, fp.ChangePasswordID), nil
			}, http.StatusNotFound},
			{"login with the new password", func(t *testing.T) (int, error) {
				return login(ctx, e, faclient.LoginRequest{LoginID: email, Password: newPassword}, u.ID)
			}, http.StatusOK},
			{"login with the new password to an unregistered application", func(t *testing.T) (int, error) {
				return login(ctx, e, faclient.LoginRequest{LoginID: strings.ToUpper(email), Password: newPassword, ApplicationID: e.variable(t, "applicationId")}, u.ID)
			}, http.StatusAccepted},
			{"login with the old password", func(t *testing.T) (int, error) {
				return login(ctx, e, faclient.LoginRequest{LoginID: email, Password: testPassword}, u.ID)
			}, http.StatusNotFound},
			{"login with the one-time password", func(t *testing.T) (int, error) {
				return login(ctx, e, faclient.LoginRequest{OneTimePassword: oneTimePassword}, u.ID)
			}, http.StatusOK},
		}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				got, err := st.do(t)
				if got != st.wantStatus {
					t.Fatalf("status = %d (%v), want %d", got, err, st.wantStatus)
				}
				if got == http.StatusNotFound {
					if x := e.lastExchange(t, http.MethodPost, "/api/"); strings.HasPrefix(x.Path, "/api/login") && len(x.Body) != 0 {
						t.Errorf("login 404 body = %q, want empty (§11)", x.Body)
					}
				}
			})
		}
	})
}

// checkChangePasswordID asks whether a change-password id is valid
// (GET /api/user/change-password/{id}, no key): 200 with no body, or 404 (§9.2).
func checkChangePasswordID(tb testing.TB, e *env, id string) int {
	tb.Helper()
	resp := e.raw(tb, http.MethodGet, "/api/user/change-password/"+id, "", nil)
	if len(resp.Body) != 0 {
		tb.Errorf("GET change-password/{id} body = %q, want none", resp.Body)
	}
	return resp.Status
}

// login logs in with the admin key and checks a successful answer is for userID.
func login(ctx context.Context, e *env, req faclient.LoginRequest, userID string) (int, error) {
	resp, err := e.admin.Login(ctx, req)
	if err != nil {
		return statusOf(err), err
	}
	if resp.User.ID != userID || resp.Token == "" {
		return resp.StatusCode, &loginMismatch{got: resp.User.ID, want: userID}
	}
	return resp.StatusCode, nil
}

// loginMismatch is a successful login that returned the wrong user or no token.
type loginMismatch struct{ got, want string }

func (m *loginMismatch) Error() string {
	return "login answered user " + m.got + " (or no token), want user " + m.want + " with a token"
}

// TestChangePasswordExpiry: a changePasswordId lives 600 s on the tenant's default
// (§9.1), measured on the compatible server's clock.
func TestChangePasswordExpiry(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		tests := map[string]struct {
			age        time.Duration
			wantStatus int
		}{
			"599 s old": {599 * time.Second, http.StatusOK},
			"601 s old": {601 * time.Second, http.StatusNotFound},
		}
		for name, tc := range tests {
			t.Run(name, func(t *testing.T) {
				e := tg.open(t)
				e.requireCompat(t, "ageing a change-password id needs the server's clock")
				ctx := context.Background()
				u := e.createUser(t, faclient.UserRequest{User: faclient.User{Email: uniqueEmail("expiry"), Password: testPassword}}).User
				no := false
				fp, err := e.admin.ForgotPassword(ctx, faclient.ForgotPasswordRequest{LoginID: u.Email, SendForgotPasswordEmail: &no})
				if err != nil {
					t.Fatalf("forgot password: %v", err)
				}
				e.advance(tc.age)
				_, err = e.client(t, "").ChangePassword(ctx, fp.ChangePasswordID, faclient.ChangePasswordRequest{Password: "a-brand-new-password-2"})
				if got := statusOf(err); got != tc.wantStatus {
					t.Fatalf("status = %d (%v), want %d", got, err, tc.wantStatus)
				}
			})
		}
	})
}

// TestChangePasswordRevokesOtherIDs: changing the password revokes the user's other
// outstanding changePasswordIds (§9.3 side effects).
func TestChangePasswordRevokesOtherIDs(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		e := tg.open(t)
		ctx := context.Background()
		u := e.createUser(t, faclient.UserRequest{User: faclient.User{Email: uniqueEmail("revoke"), Password: testPassword}}).User
		no := false
		var ids []string
		for range 2 {
			fp, err := e.admin.ForgotPassword(ctx, faclient.ForgotPasswordRequest{LoginID: u.Email, SendForgotPasswordEmail: &no})
			if err != nil {
				t.Fatalf("forgot password: %v", err)
			}
			ids = append(ids, fp.ChangePasswordID)
		}
		if ids[0] == ids[1] {
			t.Fatalf("two forgot-password calls gave the same id %q, want fresh ids", ids[0])
		}
		anon := e.client(t, "")
		steps := []struct {
			name string
			id   string
			want int
		}{
			{"change with the second id", ids[1], http.StatusOK},
			{"the first id is revoked", ids[0], http.StatusNotFound},
		}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				_, err := anon.ChangePassword(ctx, st.id, faclient.ChangePasswordRequest{Password: "a-brand-new-password-2"})
				if got := statusOf(err); got != st.want {
					t.Fatalf("status = %d (%v), want %d", got, err, st.want)
				}
			})
		}
	})
}

// TestForgotPasswordWithoutTemplate: with no forgot-password template on the tenant,
// a call that would send the email is 403, while one that only asks for the id
// (sendForgotPasswordEmail false) still works since 1.43.0 (§9.1). Changing the
// tenant is only done on the compatible server.
func TestForgotPasswordWithoutTemplate(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		no := false
		tests := map[string]struct {
			send *bool
			want int
		}{
			"send (default)": {send: nil, want: http.StatusForbidden},
			"id only":        {send: &no, want: http.StatusOK},
		}
		for name, tc := range tests {
			t.Run(name, func(t *testing.T) {
				e := tg.open(t)
				e.requireCompat(t, "removing the tenant's template would break a shared FusionAuth")
				tenant := e.variable(t, "visitorTenantId")
				patch := map[string]any{"tenant": map[string]any{"emailConfiguration": map[string]any{"forgotPasswordEmailTemplateId": nil}}}
				if resp := e.raw(t, http.MethodPatch, "/api/tenant/"+tenant, e.adminKey, patch); resp.Status != http.StatusOK {
					t.Fatalf("remove the tenant's template: %d %s", resp.Status, resp.Body)
				}
				u := e.createUser(t, faclient.UserRequest{User: faclient.User{Email: uniqueEmail("notemplate"), Password: testPassword}}).User
				_, err := e.admin.ForgotPassword(context.Background(), faclient.ForgotPasswordRequest{LoginID: u.Email, SendForgotPasswordEmail: tc.send})
				if got := statusOf(err); got != tc.want {
					t.Fatalf("status = %d (%v), want %d", got, err, tc.want)
				}
				if n := len(e.srv.Outbox()); n != 0 {
					t.Errorf("outbox = %d emails, want none without a template", n)
				}
			})
		}
	})
}
