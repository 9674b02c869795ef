package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/apikey"
	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/prune"
	"github.com/changebank/anonuser/shared/signin"
	"github.com/changebank/anonuser/shared/site"
	"github.com/changebank/anonuser/shared/token"
)

// NewLogger returns the JSON logger every function uses; LOG_LEVEL (debug, info,
// warn, error) sets its level.
func NewLogger(w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	_ = level.UnmarshalText([]byte(strings.ToUpper(os.Getenv("LOG_LEVEL"))))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// LoadAPIKey reads the function's FusionAuth API key from AWS Secrets Manager, once per
// cold start, with the default AWS configuration of the environment.
func LoadAPIKey(ctx context.Context, secretID string) (*apikey.Source, error) {
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	return apikey.Load(ctx, secretsmanager.NewFromConfig(awsCfg), secretID)
}

// FusionAuthClient returns the client for cfg with the function's key source.
func FusionAuthClient(cfg config.FusionAuth, keys faclient.KeySource) (*faclient.Client, error) {
	fa, err := faclient.New(faclient.Options{BaseURL: cfg.URL, TenantID: cfg.TenantID, Keys: keys})
	if err != nil {
		return nil, fmt.Errorf("fusionauth client: %w", err)
	}
	return fa, nil
}

// CookieKeysField is the field of a cookie function's JSON secret that holds its cookie
// keys: a JSON array of {kid, secret} as a string (token.ParseKeys).
const CookieKeysField = "cookieKeys"

// CookieKeys reads the visitor-cookie keys from the function's secret. A secret without
// usable keys fails cold start with an error naming the secret and the problem.
func CookieKeys(secret *apikey.Source) ([]token.Key, error) {
	raw, ok := secret.Value(CookieKeysField)
	if !ok {
		return nil, fmt.Errorf("%v: no %q field, want a JSON array of {kid, secret}", secret, CookieKeysField)
	}
	keys, err := token.ParseKeys([]byte(raw))
	if err != nil {
		return nil, fmt.Errorf("%v: %w", secret, err)
	}
	return keys, nil
}

// cookieFunction builds what the video and register functions share: the client and
// the visitor-cookie and session signers, which need no FusionAuth call at all.
func cookieFunction(fc config.FusionAuth, keys faclient.KeySource, cookieKeys []token.Key) (*faclient.Client, *token.Visitor, *token.Session, error) {
	fa, err := FusionAuthClient(fc, keys)
	if err != nil {
		return nil, nil, nil, err
	}
	tokens, err := token.NewVisitor(cookieKeys, nil)
	if err != nil {
		return nil, nil, nil, err
	}
	sessions, err := token.NewSession(cookieKeys, nil)
	if err != nil {
		return nil, nil, nil, err
	}
	return fa, tokens, sessions, nil
}

// Video builds the GET /video handler.
func Video(cfg config.Video, keys faclient.KeySource, cookieKeys []token.Key, log *slog.Logger) (*site.Video, *faclient.Client, error) {
	fa, tokens, sessions, err := cookieFunction(cfg.FusionAuth, keys, cookieKeys)
	if err != nil {
		return nil, nil, err
	}
	return &site.Video{
		Visits:      anon.New(fa),
		Tokens:      tokens,
		Sessions:    sessions,
		CookieName:  cfg.Cookie.Name,
		SessionName: site.DefaultSessionCookie,
		VideoURL:    cfg.VideoURL,
		Logger:      log,
	}, fa, nil
}

// ClientSecretField is the field of the register function's JSON secret that holds
// the application's OAuth client secret.
const ClientSecretField = "clientSecret"

// ClientSecret reads the OAuth client secret from the register function's secret; a
// secret without one fails cold start naming the secret.
func ClientSecret(secret *apikey.Source) (string, error) {
	v, ok := secret.Value(ClientSecretField)
	if !ok || v == "" {
		return "", fmt.Errorf("%v: no %q field, want the application's OAuth client secret", secret, ClientSecretField)
	}
	return v, nil
}

// RegisterFunction is the register function's handlers: GET and POST /register, and
// the sign-in (GET /login, /callback, /logout).
type RegisterFunction struct {
	Register *site.Register
	SignIn   *site.SignIn
}

// ServeHTTP routes the function's paths; API Gateway sends it only those.
func (f *RegisterFunction) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case site.LoginPath, site.CallbackPath, site.LogoutPath:
		f.SignIn.ServeHTTP(w, r)
	default:
		f.Register.ServeHTTP(w, r)
	}
}

// Register builds the register function: /register and the sign-in. clientSecret is
// the application's OAuth client secret (ClientSecret). Nothing here calls FusionAuth:
// its JWKS is fetched when the first ID token arrives.
func Register(cfg config.Register, keys faclient.KeySource, cookieKeys []token.Key, clientSecret string, log *slog.Logger) (*RegisterFunction, *faclient.Client, error) {
	fa, tokens, sessions, err := cookieFunction(cfg.FusionAuth, keys, cookieKeys)
	if err != nil {
		return nil, nil, err
	}
	flows, err := token.NewSignIn(cookieKeys, nil)
	if err != nil {
		return nil, nil, err
	}
	oidc, err := signin.New(signin.Options{
		ClientID:     cfg.ApplicationID,
		ClientSecret: clientSecret,
		PublicURL:    cfg.PublicFusionAuthURL,
		URL:          cfg.URL,
		Issuer:       cfg.PublicFusionAuthURL,
		RedirectURL:  cfg.RedirectURI,
		HTTPClient:   faclient.DefaultHTTPClient(),
	})
	if err != nil {
		return nil, nil, err
	}
	conv := anon.NewConverter(fa, cfg.ApplicationID, nil)
	return &RegisterFunction{
		Register: &site.Register{
			Conversions: conv,
			Tokens:      tokens,
			Sessions:    sessions,
			CookieName:  cfg.Cookie.Name,
			SessionName: site.DefaultSessionCookie,
			Origin:      cfg.Origin,
			Logger:      log,
		},
		SignIn: &site.SignIn{
			Flow:        oidc,
			FlowTokens:  flows,
			Sessions:    sessions,
			Visitors:    tokens,
			Accounts:    anon.NewAccounts(fa, conv),
			CookieName:  cfg.Cookie.Name,
			SessionName: site.DefaultSessionCookie,
			Logger:      log,
		},
	}, fa, nil
}

// Webhook builds the FusionAuth webhook handler. secret is the shared secret FusionAuth
// sends in cfg.SecretHeader ("" for none); with neither a secret nor a signing key the
// webhook would accept anyone, so that configuration is refused.
func Webhook(ctx context.Context, cfg config.Webhook, keys faclient.KeySource, secret string, log *slog.Logger) (*site.Webhook, *faclient.Client, error) {
	if secret == "" && cfg.SigningKID == "" {
		return nil, nil, errors.New("webhook: neither WEBHOOK_SIGNING_KID nor a webhookSecret in the secret is set; refusing to accept unauthenticated calls")
	}
	fa, err := FusionAuthClient(cfg.FusionAuth, keys)
	if err != nil {
		return nil, nil, err
	}
	h := &site.Webhook{
		Secret:       secret,
		SecretHeader: cfg.SecretHeader,
		Conversions:  anon.NewConverter(fa, cfg.ApplicationID, nil),
		Logger:       log,
	}
	if cfg.SigningKID != "" {
		// The kid is configuration: no Key API call at cold start. The JWKS is
		// fetched here, on the webhook's path only.
		h.Signatures, err = token.NewWebhook(ctx, token.WebhookOptions{
			JWKSURL:    fa.BaseURL() + faclient.JWKSPath,
			KID:        cfg.SigningKID,
			HTTPClient: faclient.DefaultHTTPClient(),
		})
		if err != nil {
			return nil, nil, err
		}
	}
	return h, fa, nil
}

// Pruner builds the prune pass for cfg; each run writes its metrics to metrics (the
// Lambda's stdout, where CloudWatch picks them up) and logs its summary to log.
func Pruner(cfg config.Prune, keys faclient.KeySource, metrics io.Writer, log *slog.Logger) (*prune.Pruner, *faclient.Client, error) {
	fa, err := FusionAuthClient(cfg.FusionAuth, keys)
	if err != nil {
		return nil, nil, err
	}
	return prune.New(fa, prune.Options{
		Retention:    time.Duration(cfg.RetentionDays) * 24 * time.Hour,
		PendingEmail: time.Duration(cfg.PendingEmailDays) * 24 * time.Hour,
		MaxPerRun:    cfg.MaxPerRun,
		BatchSize:    cfg.BatchSize,
		DryRun:       cfg.DryRun,
		Metrics:      metrics,
	}, log), fa, nil
}

// Main runs a Lambda function's cold start: run reads the configuration, builds the
// handler and calls lambda.Start (which never returns). A cold-start failure is logged
// once as JSON and ends the process with a non-zero status, which Lambda reports as an
// init error.
func Main(run func(ctx context.Context, log *slog.Logger) error) {
	log := NewLogger(os.Stdout)
	if err := run(context.Background(), log); err != nil {
		log.Error("cold start failed", "error", err)
		os.Exit(1)
	}
}
