package signin

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
	"github.com/changebank/anonuser/shared/token"
)

// FusionAuth's OAuth 2.0 and OpenID Connect endpoints, as its discovery document
// (/.well-known/openid-configuration) advertises them; the contract tests check that
// it still does.
const (
	AuthorizePath = "/oauth2/authorize"
	RegisterPath  = "/oauth2/register" // the same parameters, showing the registration form
	TokenPath     = "/oauth2/token"
	LogoutPath    = "/oauth2/logout"
	JWKSPath      = "/.well-known/jwks.json"
)

// Scopes asks for an ID token (openid) with the address (email), which the header
// shows.
var Scopes = []string{oidc.ScopeOpenID, "email"}

// Screen is the FusionAuth page a sign-in starts on.
type Screen int

const (
	// Login is FusionAuth's login form (/oauth2/authorize).
	Login Screen = iota
	// Register is FusionAuth's registration form (/oauth2/register), for visitors who
	// have no profile yet.
	Register
)

// Options configure a Client.
type Options struct {
	ClientID     string // the application's id (its OAuth client id)
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
}

// New returns a Client for o. Every option but HTTPClient and Now is required.
func New(o Options) (*Client, error) {
	var missing []string
	for _, opt := range [][2]string{{"ClientID", o.ClientID}, {"ClientSecret", o.ClientSecret}, {"PublicURL", o.PublicURL},
		{"URL", o.URL}, {"Issuer", o.Issuer}, {"RedirectURL", o.RedirectURL}} {
		if opt[1] == "" {
			missing = append(missing, opt[0])
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("signin: missing options %s", strings.Join(missing, ", "))
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	public, internal := strings.TrimRight(o.PublicURL, "/"), strings.TrimRight(o.URL, "/")
	keys := &keySet{remote: oidc.NewRemoteKeySet(oidc.ClientContext(context.Background(), o.HTTPClient), internal+JWKSPath)}
	return &Client{
		oauth: oauth2.Config{
			ClientID:     o.ClientID,
			ClientSecret: o.ClientSecret,
			// FusionAuth takes client_secret_basic and client_secret_post; basic keeps the
			// secret out of request bodies that a proxy might log.
			Endpoint:    oauth2.Endpoint{AuthURL: public + AuthorizePath, TokenURL: internal + TokenPath, AuthStyle: oauth2.AuthStyleInHeader},
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
	}, nil
}

// Start begins a sign-in on screen: a fresh flow (random state and nonce, a PKCE
// verifier) for the caller to keep in the browser, and the FusionAuth URL to send the
// browser to, carrying the state, the nonce and the verifier's S256 challenge.
func (c *Client) Start(screen Screen) (token.Flow, string, error) {
	state, err := random()
	if err != nil {
		return token.Flow{}, "", err
	}
	nonce, err := random()
	if err != nil {
		return token.Flow{}, "", err
	}
	f := token.Flow{State: state, Nonce: nonce, Verifier: oauth2.GenerateVerifier()}
	target := c.oauth.AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier))
	if screen == Register {
		target = strings.Replace(target, c.publicURL+AuthorizePath, c.publicURL+RegisterPath, 1)
	}
	return f, target, nil
}

// Identity is who signed in, from the verified ID token.
type Identity struct {
	UserID string // sub: the FusionAuth user id
	Email  string // email, when the scope granted it
}

// Finish completes a sign-in from the callback's query and the flow Start returned
// (nil when the browser kept none): it checks the state, exchanges the code at the
// token endpoint with the client secret and the PKCE verifier, and verifies the ID
// token. One token call, plus one JWKS fetch the first time (or on an unknown kid).
// Errors: ErrDenied, ErrUnsolicited, ErrState, ErrCode, ErrIDToken, ErrUnavailable.
func (c *Client) Finish(ctx context.Context, q url.Values, flow *token.Flow) (Identity, error) {
	if e := q.Get("error"); e != "" {
		return Identity{}, fmt.Errorf("%w: error=%q reason=%q", ErrDenied, e, q.Get("error_reason"))
	}
	code, state := q.Get("code"), q.Get("state")
	switch {
	case code == "":
		return Identity{}, fmt.Errorf("%w: no code in the callback", ErrState)
	case state == "" && !q.Has("state"):
		return Identity{}, ErrUnsolicited
	case flow == nil:
		return Identity{}, fmt.Errorf("%w: the browser holds no sign-in flow", ErrState)
	case !equal(state, flow.State):
		return Identity{}, fmt.Errorf("%w: the callback's state is not the flow's", ErrState)
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, c.http)
	tok, err := c.oauth.Exchange(ctx, code, oauth2.VerifierOption(flow.Verifier))
	if err != nil {
		return Identity{}, exchangeError(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Identity{}, fmt.Errorf("%w: the token response has no id_token", ErrIDToken)
	}
	outage := new(bool)
	idt, err := c.verifier.Verify(context.WithValue(ctx, outageKey{}, outage), raw)
	if err != nil {
		if *outage {
			return Identity{}, fmt.Errorf("%w: FusionAuth's keys: %w", ErrUnavailable, err)
		}
		return Identity{}, fmt.Errorf("%w: %w", ErrIDToken, err)
	}
	if !equal(idt.Nonce, flow.Nonce) {
		return Identity{}, fmt.Errorf("%w: nonce is not the flow's", ErrIDToken)
	}
	var claims struct {
		Email string `json:"email"`
	}
	if err := idt.Claims(&claims); err != nil {
		return Identity{}, fmt.Errorf("%w: claims: %w", ErrIDToken, err)
	}
	if !anon.ValidUserID(idt.Subject) {
		return Identity{}, fmt.Errorf("%w: sub is not a user id", ErrIDToken)
	}
	return Identity{UserID: idt.Subject, Email: claims.Email}, nil
}

// LogoutURL is FusionAuth's logout page for the application: it ends FusionAuth's SSO
// session and sends the browser to the application's logout URL (Kickstart sets /video).
func (c *Client) LogoutURL() string {
	return c.publicURL + LogoutPath + "?" + url.Values{"client_id": {c.oauth.ClientID}}.Encode()
}

// exchangeError sorts a failed code exchange: FusionAuth refusing the code is the
// visitor's to retry; refusing us as a client, failing or not answering is ours.
func exchangeError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		status := re.Response.StatusCode
		if status >= 400 && status < 500 && re.ErrorCode != "invalid_client" && re.ErrorCode != "unauthorized_client" {
			return fmt.Errorf("%w: %d %s", ErrCode, status, re.ErrorCode)
		}
		return fmt.Errorf("%w: token endpoint answered %d %s", ErrUnavailable, status, re.ErrorCode)
	}
	return fmt.Errorf("%w: token endpoint: %w", ErrUnavailable, err)
}

// random returns 32 random bytes, base64url: a state or nonce nobody can guess.
func random() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("signin: random value: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
