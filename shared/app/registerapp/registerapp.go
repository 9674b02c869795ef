// Package registerapp builds the register function's handler from its configuration:
// GET and POST /register, and the sign-in (GET /login, /callback, /logout).
// functions/register and the local stack both call it.
package registerapp

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/apikey"
	"github.com/changebank/anonuser/shared/app"
	"github.com/changebank/anonuser/shared/app/cookiekeys"
	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/limit"
	"github.com/changebank/anonuser/shared/signin/openid"
	"github.com/changebank/anonuser/shared/site"
	"github.com/changebank/anonuser/shared/token"
)

// The OpenID Connect client is what the sign-in handlers need.
var _ site.SignInFlow = (*openid.Client)(nil)

// ClientSecretField is the field of the register function's JSON secret that holds the
// application's OAuth client secret, beside its apiKey.
const ClientSecretField = "clientSecret"

// ClientSecret reads the OAuth client secret from the register function's secret; a
// secret without one fails cold start naming the secret, never quoting it.
func ClientSecret(secret *apikey.Source) (string, error) {
	v, ok := secret.Value(ClientSecretField)
	if !ok || v == "" {
		return "", fmt.Errorf("%v: no %q field, want the application's OAuth client secret", secret, ClientSecretField)
	}
	return v, nil
}

// RequestRule names the POST /register one client sends per hour
// (REGISTERS_PER_CLIENT_HOUR) in the client limits table.
const RequestRule = site.LimitRegister

// Paths are the paths the register function serves (the API routes of template.yaml).
var Paths = []string{"/register", site.LoginPath, site.CallbackPath, site.LogoutPath, site.MePath, site.MeDataPath, site.MeForgetPath}

// Function is the register function's handler.
type Function struct {
	Register *site.Register
	SignIn   *site.SignIn
	Me       *site.Me // the visitor's own data: see, download, delete
}

// ServeHTTP routes the function's paths; API Gateway sends it only those.
func (f *Function) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case site.LoginPath, site.CallbackPath, site.LogoutPath:
		f.SignIn.ServeHTTP(w, r)
	case site.MePath, site.MeDataPath, site.MeForgetPath:
		f.Me.ServeHTTP(w, r)
	default:
		f.Register.ServeHTTP(w, r)
	}
}

// Build is the register function's cold start once cfg is read: its FusionAuth client
// with the API key from its secret and the cookie keys from theirs
// (cookiekeys.WithFusionAuth), the OAuth client secret from the function's secret
// (ClientSecret), then New, its 5xx counted (site.CountServerErrors). functions/register
// and the local stack call it.
func Build(ctx context.Context, cfg config.Register, sm apikey.SecretReader, stores app.Stores, log *slog.Logger) (http.Handler, error) {
	fa, secret, keys, err := cookiekeys.WithFusionAuth(ctx, cfg.FusionAuth, cfg.Cookie.KeysSecretID, sm)
	if err != nil {
		return nil, err
	}
	clientSecret, err := ClientSecret(secret)
	if err != nil {
		return nil, err
	}
	f, err := New(cfg, fa, keys, clientSecret, stores, log)
	if err != nil {
		return nil, err
	}
	return site.CountServerErrors(site.FunctionRegister, log, f), nil
}

// New builds the register function for cfg. fa is the function's own FusionAuth client
// (app.FusionAuth), keys the cookies' signing keys (cookiekeys.Load) and clientSecret
// the application's OAuth client secret (ClientSecret). Nothing here calls FusionAuth:
// its JWKS is fetched when the first ID token arrives. stores are the profile leases
// and the per-client counts every instance shares (app.DeployedStores); without the
// counts there is no register function.
func New(cfg config.Register, fa *faclient.Client, keys []token.Key, clientSecret string, stores app.Stores, log *slog.Logger) (*Function, error) {
	if stores.Limits == nil {
		return nil, fmt.Errorf("register: no client limits store")
	}
	cookies, err := token.NewCookies(keys, nil)
	if err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	oidc, err := openid.New(openid.Options{
		ClientID:     cfg.ApplicationID,
		TenantID:     cfg.TenantID,
		ClientSecret: clientSecret,
		PublicURL:    cfg.PublicFusionAuthURL,
		URL:          cfg.URL,
		Issuer:       cfg.PublicFusionAuthURL,
		RedirectURL:  cfg.RedirectURI,
		HTTPClient:   faclient.DefaultHTTPClient(),
	})
	if err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	requests := &site.ClientLimit{
		Limits:  stores.Limits,
		Rule:    limit.Rule{Name: RequestRule, Max: cfg.Requests.PerHour, Per: time.Hour},
		Clients: site.Clients{Trusted: cfg.Requests.TrustedProxies},
	}
	if err := requests.Rule.Validate(); err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	signInURL, err := appURL(cfg.RedirectURI, site.LoginPath)
	if err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	conv := anon.NewConverter(fa, stores.Locks, anon.ConverterOptions{
		ApplicationID:           cfg.ApplicationID,
		AccountExistsTemplateID: cfg.AccountExistsTemplateID,
		SignInURL:               signInURL,
		Limits:                  anon.Limits{PerHour: cfg.EmailsPerHour, PerDay: cfg.EmailsPerDay},
	})
	accounts := anon.NewAccounts(fa, conv)
	return &Function{
		Register: &site.Register{
			Conversions: conv,
			Tokens:      cookies.Visitor,
			Sessions:    cookies.Session,
			CookieName:  cfg.Cookie.Name,
			SessionName: site.DefaultSessionCookie,
			Origin:      cfg.Origin,
			Requests:    requests,
			Logger:      log,
		},
		SignIn: &site.SignIn{
			Flow:        oidc,
			FlowTokens:  cookies.SignIn,
			Sessions:    cookies.Session,
			Visitors:    cookies.Visitor,
			Accounts:    accounts,
			CookieName:  cfg.Cookie.Name,
			SessionName: site.DefaultSessionCookie,
			Logger:      log,
		},
		Me: &site.Me{
			Data:        accounts,
			Tokens:      cookies.Visitor,
			Sessions:    cookies.Session,
			CookieName:  cfg.Cookie.Name,
			SessionName: site.DefaultSessionCookie,
			Origin:      cfg.Origin,
			Logger:      log,
		},
	}, nil
}

// appURL is path on the site's own origin, taken from the redirect URI (the site's
// /callback): the account-exists email links to the site's /login, which starts the
// sign-in on FusionAuth's login page with this app's state and PKCE.
func appURL(redirectURI, path string) (string, error) {
	u, err := url.Parse(redirectURI)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("REGISTER_REDIRECT_URI %q is not an absolute URL", redirectURI)
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: path}).String(), nil
}
