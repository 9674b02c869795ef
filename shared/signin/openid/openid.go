// Package openid is the OpenID Connect client of the sign-in: OAuth 2.0 Authorization
// Code with PKCE (S256), state and nonce against FusionAuth's hosted login
// (golang.org/x/oauth2), and the ID token verified against FusionAuth's JWKS: signature,
// iss, aud, exp and nonce (github.com/coreos/go-oidc/v3).
//
// It knows the protocol and nothing of pages or cookies: Start gives the flow to keep
// and the FusionAuth URL to send the browser to; Finish turns the callback's query and
// the kept flow into the identity that signed in, or an error of package signin's
// vocabulary. The client secret is configuration handed in by the caller (read from
// Secrets Manager at cold start); nothing here holds FusionAuth's tokens beyond Finish.
package openid

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/signin"
	"github.com/changebank/anonuser/shared/token"
)

// Scopes asks for an ID token (openid) with the address (email), which the header
// shows.
var Scopes = []string{oidc.ScopeOpenID, "email"}

// Options configure a Client.
type Options struct {
	ClientID     string // the application's id (its OAuth client id)
	TenantID     string // the application's tenant (the visitors'): the tenantId of the hosted pages' URLs
	ClientSecret string // the application's client secret, from Secrets Manager
	PublicURL    string // FusionAuth as browsers reach it: the login, registration and logout pages
	URL          string // FusionAuth as the function reaches it: the token endpoint and the JWKS
	Issuer       string // the visitors' tenant's issuer: the ID token's iss
	RedirectURL  string // the app's /callback, an authorized redirect URL of the application
	HTTPClient   *http.Client
	Now          func() time.Time // the clock the ID token's exp is checked against; nil means time.Now
}

// Client runs sign-ins against FusionAuth. It is safe for concurrent use; building it
// does no I/O (the JWKS is fetched when the first ID token arrives, then cached and
// re-fetched when a token names an unknown kid).
type Client struct {
	oauth     oauth2.Config
	verifier  *oidc.IDTokenVerifier
	http      *http.Client
	publicURL string
	tenantID  string
}

// New returns a Client for o. Every option but HTTPClient and Now is required; without
// an HTTPClient it calls FusionAuth with faclient.DefaultHTTPClient(), the bounds of
// every other call to FusionAuth.
func New(o Options) (*Client, error) {
	var missing []string
	for _, opt := range [][2]string{{"ClientID", o.ClientID}, {"TenantID", o.TenantID}, {"ClientSecret", o.ClientSecret}, {"PublicURL", o.PublicURL},
		{"URL", o.URL}, {"Issuer", o.Issuer}, {"RedirectURL", o.RedirectURL}} {
		if opt[1] == "" {
			missing = append(missing, opt[0])
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("signin: missing options %s", strings.Join(missing, ", "))
	}
	if o.HTTPClient == nil {
		o.HTTPClient = faclient.DefaultHTTPClient()
	}
	public, internal := strings.TrimRight(o.PublicURL, "/"), strings.TrimRight(o.URL, "/")
	keys := &keySet{remote: oidc.NewRemoteKeySet(oidc.ClientContext(context.Background(), o.HTTPClient), internal+signin.JWKSPath)}
	return &Client{
		oauth: oauth2.Config{
			ClientID:     o.ClientID,
			ClientSecret: o.ClientSecret,
			// FusionAuth takes client_secret_basic and client_secret_post; basic keeps the
			// secret out of request bodies that a proxy might log.
			Endpoint:    oauth2.Endpoint{AuthURL: public + signin.AuthorizePath, TokenURL: internal + signin.TokenPath, AuthStyle: oauth2.AuthStyleInHeader},
			RedirectURL: o.RedirectURL,
			Scopes:      Scopes,
		},
		verifier: oidc.NewVerifier(o.Issuer, keys, &oidc.Config{
			ClientID:             o.ClientID,
			SupportedSigningAlgs: []string{oidc.RS256}, // the application's ID-token key; never HS256 or none
			Now:                  o.Now,
		}),
		http:      o.HTTPClient,
		publicURL: public,
		tenantID:  o.TenantID,
	}, nil
}

// Start begins a sign-in on screen: a fresh flow (random state and nonce, a PKCE
// verifier) for the caller to keep in the browser, and the FusionAuth URL to send the
// browser to, carrying the state, the nonce, the verifier's S256 challenge and the
// tenantId.
//
// FusionAuth's OAuth endpoints doc marks tenantId required on /oauth2/authorize ("used
// for applying the proper theme"), and this FusionAuth has two tenants. FusionAuth
// itself resolves the tenant from client_id (fusionauth-site PR #741, where its
// maintainer keeps the parameter documented as required so that callers send it), so
// the URL carries it as documented while nothing relies on FusionAuth checking it.
func (c *Client) Start(screen signin.Screen) (token.Flow, string, error) {
	state, err := random()
	if err != nil {
		return token.Flow{}, "", err
	}
	nonce, err := random()
	if err != nil {
		return token.Flow{}, "", err
	}
	f := token.Flow{State: state, Nonce: nonce, Verifier: oauth2.GenerateVerifier()}
	target := c.oauth.AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier),
		oauth2.SetAuthURLParam("tenantId", c.tenantID))
	if screen == signin.Register {
		target = strings.Replace(target, c.publicURL+signin.AuthorizePath, c.publicURL+signin.RegisterPath, 1)
	}
	return f, target, nil
}

// Finish completes a sign-in from the callback's query and the flow Start returned
// (nil when the browser kept none): it checks the state, exchanges the code at the
// token endpoint with the client secret and the PKCE verifier, and verifies the ID
// token. One token call, plus one JWKS fetch the first time (or on an unknown kid).
// Errors: signin.ErrDenied, signin.ErrUnsolicited, signin.ErrState, signin.ErrCode, signin.ErrIDToken, signin.ErrUnavailable.
func (c *Client) Finish(ctx context.Context, q url.Values, flow *token.Flow) (signin.Identity, error) {
	if e := q.Get("error"); e != "" {
		return signin.Identity{}, fmt.Errorf("%w: error=%q reason=%q", signin.ErrDenied, e, q.Get("error_reason"))
	}
	code, state := q.Get("code"), q.Get("state")
	switch {
	case code == "":
		return signin.Identity{}, fmt.Errorf("%w: no code in the callback", signin.ErrState)
	case state == "" && !q.Has("state"):
		return signin.Identity{}, signin.ErrUnsolicited
	case flow == nil:
		return signin.Identity{}, fmt.Errorf("%w: the browser holds no sign-in flow", signin.ErrState)
	case !equal(state, flow.State):
		return signin.Identity{}, fmt.Errorf("%w: the callback's state is not the flow's", signin.ErrState)
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, c.http)
	tok, err := c.oauth.Exchange(ctx, code, oauth2.VerifierOption(flow.Verifier))
	if err != nil {
		return signin.Identity{}, exchangeError(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return signin.Identity{}, fmt.Errorf("%w: the token response has no id_token", signin.ErrIDToken)
	}
	outage := new(bool)
	idt, err := c.verifier.Verify(context.WithValue(ctx, outageKey{}, outage), raw)
	if err != nil {
		if *outage {
			return signin.Identity{}, fmt.Errorf("%w: FusionAuth's keys: %w", signin.ErrUnavailable, err)
		}
		return signin.Identity{}, fmt.Errorf("%w: %w", signin.ErrIDToken, err)
	}
	if !equal(idt.Nonce, flow.Nonce) {
		return signin.Identity{}, fmt.Errorf("%w: nonce is not the flow's", signin.ErrIDToken)
	}
	var claims struct {
		Email string `json:"email"`
	}
	if err := idt.Claims(&claims); err != nil {
		return signin.Identity{}, fmt.Errorf("%w: claims: %w", signin.ErrIDToken, err)
	}
	if !anon.ValidUserID(idt.Subject) {
		return signin.Identity{}, fmt.Errorf("%w: sub is not a user id", signin.ErrIDToken)
	}
	return signin.Identity{UserID: idt.Subject, Email: claims.Email}, nil
}

// LogoutURL is FusionAuth's logout page for the application: it ends FusionAuth's SSO
// session and sends the browser to the application's logout URL (Kickstart sets /video).
// It carries tenantId, which FusionAuth's OAuth endpoints doc marks required on
// /oauth2/logout as on /oauth2/authorize (see Start).
func (c *Client) LogoutURL() string {
	return c.publicURL + signin.LogoutPath + "?" + url.Values{"client_id": {c.oauth.ClientID}, "tenantId": {c.tenantID}}.Encode()
}

// exchangeError sorts a failed code exchange: FusionAuth refusing the code is the
// visitor's to retry; refusing us as a client, failing or not answering is ours.
func exchangeError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		status := re.Response.StatusCode
		if status >= 400 && status < 500 && re.ErrorCode != "invalid_client" && re.ErrorCode != "unauthorized_client" {
			return fmt.Errorf("%w: %d %s", signin.ErrCode, status, re.ErrorCode)
		}
		return fmt.Errorf("%w: token endpoint answered %d %s", signin.ErrUnavailable, status, re.ErrorCode)
	}
	return fmt.Errorf("%w: token endpoint: %w", signin.ErrUnavailable, err)
}

// random returns 32 random bytes, base64url: a state or nonce nobody can guess.
func random() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("signin: random value: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
