package openid_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/changebank/anonuser/shared/faclient/fatest"
	"github.com/changebank/anonuser/shared/signin"
	"github.com/changebank/anonuser/shared/signin/openid"
	"github.com/changebank/anonuser/shared/token"
)

const redirect = "https://changebank.example/callback"

func newClient(t *testing.T, fa *fatest.Server, secret string) *openid.Client {
	t.Helper()
	c, err := openid.New(openid.Options{
		ClientID: fa.Variable("applicationId"), TenantID: fa.Variable("visitorTenantId"), ClientSecret: secret, PublicURL: fa.URL(), URL: fa.URL(),
		Issuer: fa.URL(), RedirectURL: redirect,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newServer(t *testing.T) *fatest.Server {
	t.Helper()
	return fatest.NewTestServer(t, fatest.Options{Variables: map[string]string{"appURL": "https://changebank.example"}})
}

func TestStartCarriesStateNonceAndPKCE(t *testing.T) {
	fa := newServer(t)
	c := newClient(t, fa, fa.Variable("clientSecret"))
	flow, target, err := c.Start(signin.Login)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	sum := sha256.Sum256([]byte(flow.Verifier))
	want := map[string]string{
		"client_id": fa.Variable("applicationId"), "redirect_uri": redirect, "response_type": "code", "scope": "openid email",
		"state": flow.State, "nonce": flow.Nonce, "code_challenge_method": "S256", "code_challenge": base64.RawURLEncoding.EncodeToString(sum[:]),
		"tenantId": fa.Variable("visitorTenantId"), // documented as required on /oauth2/authorize
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if u.Path != signin.AuthorizePath || len(flow.State) < 43 || len(flow.Nonce) < 43 || len(flow.Verifier) < 43 {
		t.Errorf("target %s, flow %+v: want /oauth2/authorize and 256-bit random values", target, flow)
	}
	again, _, _ := c.Start(signin.Login)
	if again.State == flow.State || again.Nonce == flow.Nonce || again.Verifier == flow.Verifier {
		t.Error("two sign-ins share a random value")
	}
	_, reg, _ := c.Start(signin.Register)
	if !strings.HasPrefix(reg, fa.URL()+signin.RegisterPath+"?") {
		t.Errorf("register screen: %s, want FusionAuth's %s", reg, signin.RegisterPath)
	}
	if u, err := url.Parse(reg); err != nil || u.Query().Get("tenantId") != fa.Variable("visitorTenantId") {
		t.Errorf("register screen: %s, want tenantId=%s", reg, fa.Variable("visitorTenantId"))
	}
}

// callback logs in on the stand-in's hosted page for the flow at target and returns
// the callback's query.
func callback(t *testing.T, fa *fatest.Server, target string) url.Values {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm(target, url.Values{"loginId": {fa.Variable("regularEmail")}, "password": {fa.Variable("regularPassword")}})
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("login: %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc.Query()
}

func TestFinishSignsIn(t *testing.T) {
	fa := newServer(t)
	c := newClient(t, fa, fa.Variable("clientSecret"))
	flow, target, _ := c.Start(signin.Login)
	q := callback(t, fa, target)
	fa.ResetCalls()
	id, err := c.Finish(context.Background(), q, &flow)
	if err != nil {
		t.Fatal(err)
	}
	if id.UserID != fa.Variable("regularUserId") || id.Email != fa.Variable("regularEmail") {
		t.Errorf("identity %+v, want the regular user", id)
	}
	if fa.TotalCalls() != 2 || fa.Calls("POST /oauth2/token") != 1 || fa.Calls("GET /.well-known/jwks.json") != 1 {
		t.Errorf("FusionAuth calls %d, want the token exchange and one JWKS fetch", fa.TotalCalls())
	}
}

// TestFinishRefusesBeforeExchanging: a denied login, a foreign state, a missing flow
// and an unsolicited code are refused without calling the token endpoint.
func TestFinishRefusesBeforeExchanging(t *testing.T) {
	fa := newServer(t)
	c := newClient(t, fa, fa.Variable("clientSecret"))
	flow, _, _ := c.Start(signin.Login)
	cases := map[string]struct {
		q    url.Values
		flow *token.Flow
		want error
	}{
		"access denied": {url.Values{"error": {"access_denied"}, "state": {flow.State}}, &flow, signin.ErrDenied},
		"wrong state":   {url.Values{"code": {"c"}, "state": {"other"}}, &flow, signin.ErrState},
		"empty state":   {url.Values{"code": {"c"}, "state": {""}}, &flow, signin.ErrState},
		"no flow":       {url.Values{"code": {"c"}, "state": {flow.State}}, nil, signin.ErrState},
		"no code":       {url.Values{"state": {flow.State}}, &flow, signin.ErrState},
		"no state":      {url.Values{"code": {"c"}}, &flow, signin.ErrUnsolicited},
	}
	for name, tc := range cases {
		fa.ResetCalls()
		if _, err := c.Finish(context.Background(), tc.q, tc.flow); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
		if fa.TotalCalls() != 0 {
			t.Errorf("%s: %d FusionAuth calls, want none", name, fa.TotalCalls())
		}
	}
}

// TestFinishTellsAnOutageFromAForgery: FusionAuth's keys that cannot be fetched are
// ErrUnavailable (try again), not ErrIDToken; a client secret FusionAuth refuses is
// ours to fix, ErrUnavailable too, not the visitor's ErrCode.
func TestFinishTellsAnOutageFromAForgery(t *testing.T) {
	fa := newServer(t)
	c := newClient(t, fa, fa.Variable("clientSecret"))
	flow, target, _ := c.Start(signin.Login)
	q := callback(t, fa, target)
	fa.InjectFault("GET /.well-known/jwks.json", http.StatusServiceUnavailable, 5)
	if _, err := c.Finish(context.Background(), q, &flow); !errors.Is(err, signin.ErrUnavailable) || errors.Is(err, signin.ErrIDToken) {
		t.Errorf("JWKS unavailable: %v, want ErrUnavailable", err)
	}
	wrong := newClient(t, fa, "not-the-client-secret")
	flow, target, _ = wrong.Start(signin.Login)
	q = callback(t, fa, target)
	if _, err := wrong.Finish(context.Background(), q, &flow); !errors.Is(err, signin.ErrUnavailable) || errors.Is(err, signin.ErrCode) {
		t.Errorf("client secret refused: %v, want ErrUnavailable", err)
	}
}

func TestNewNamesMissingOptions(t *testing.T) {
	_, err := openid.New(openid.Options{ClientID: "x"})
	if err == nil || !strings.Contains(err.Error(), "ClientSecret") || !strings.Contains(err.Error(), "Issuer") || !strings.Contains(err.Error(), "TenantID") {
		t.Errorf("err=%v, want one naming the missing options", err)
	}
}

// TestFinishRefusesAStolenOrSpentCode: FusionAuth refusing the code is the visitor's
// ErrCode (start again), never ErrUnavailable and never an identity. An attacker who
// intercepted a victim's code and presents it from a flow of their own has the state
// of that flow but not the victim's PKCE verifier; a code already exchanged (a replayed
// callback) is spent. FusionAuth answers both 400 invalid_grant.
func TestFinishRefusesAStolenOrSpentCode(t *testing.T) {
	fa := newServer(t)
	c := newClient(t, fa, fa.Variable("clientSecret"))
	_, target, _ := c.Start(signin.Login) // the victim's sign-in
	stolen := callback(t, fa, target)
	attacker, _, _ := c.Start(signin.Login)
	q := url.Values{"code": {stolen.Get("code")}, "state": {attacker.State}}
	if id, err := c.Finish(context.Background(), q, &attacker); !errors.Is(err, signin.ErrCode) || id != (signin.Identity{}) {
		t.Errorf("a victim's code from the attacker's flow: %+v, %v; want ErrCode and nobody", id, err)
	}

	flow, target, _ := c.Start(signin.Login)
	q = callback(t, fa, target)
	if _, err := c.Finish(context.Background(), q, &flow); err != nil {
		t.Fatal(err)
	}
	if id, err := c.Finish(context.Background(), q, &flow); !errors.Is(err, signin.ErrCode) || id != (signin.Identity{}) {
		t.Errorf("the same callback again: %+v, %v; want ErrCode and nobody", id, err)
	}
}

// TestFinishCallsAFailingTokenEndpointAnOutage: a token endpoint that fails (5xx) is
// ErrUnavailable (try again later), not the visitor's ErrCode, even at exactly 500.
func TestFinishCallsAFailingTokenEndpointAnOutage(t *testing.T) {
	fa := newServer(t)
	c := newClient(t, fa, fa.Variable("clientSecret"))
	for _, status := range []int{http.StatusInternalServerError, http.StatusServiceUnavailable} {
		flow, target, _ := c.Start(signin.Login)
		q := callback(t, fa, target)
		fa.InjectFault("POST /oauth2/token", status, 1)
		if _, err := c.Finish(context.Background(), q, &flow); !errors.Is(err, signin.ErrUnavailable) || errors.Is(err, signin.ErrCode) {
			t.Errorf("token endpoint %d: %v, want ErrUnavailable", status, err)
		}
	}
}

// TestLogoutURLEndsFusionAuthsSession: the logout link is FusionAuth's public logout
// page for this application, so signing out also ends FusionAuth's SSO session; it
// names the tenant, as FusionAuth's OAuth endpoints doc asks of /oauth2/logout.
func TestLogoutURLEndsFusionAuthsSession(t *testing.T) {
	fa := newServer(t)
	c, err := openid.New(openid.Options{
		ClientID: fa.Variable("applicationId"), TenantID: fa.Variable("visitorTenantId"), ClientSecret: "s", PublicURL: "https://login.changebank.example/",
		URL: fa.URL(), Issuer: fa.URL(), RedirectURL: redirect,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "https://login.changebank.example" + signin.LogoutPath + "?" + url.Values{"client_id": {fa.Variable("applicationId")}, "tenantId": {fa.Variable("visitorTenantId")}}.Encode()
	if got := c.LogoutURL(); got != want {
		t.Errorf("LogoutURL() = %s, want %s", got, want)
	}
}
