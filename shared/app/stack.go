package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/apikey"
	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/prune"
	"github.com/changebank/anonuser/shared/secrets"
	"github.com/changebank/anonuser/shared/site"
)

// NewLogger returns the JSON logger every function uses; LOG_LEVEL (debug, info,
// warn, error) sets its level.
func NewLogger(w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	_ = level.UnmarshalText([]byte(strings.ToUpper(os.Getenv("LOG_LEVEL"))))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// LoadAPIKey reads the function's FusionAuth API key from AWS Secrets Manager, once per
// cold start, with the credentials and region Lambda puts in the environment.
func LoadAPIKey(ctx context.Context, secretID string) (*apikey.Source, error) {
	sm, err := secrets.FromEnv(ctx, os.LookupEnv)
	if err != nil {
		return nil, err
	}
	return apikey.Load(ctx, sm, secretID)
}

// FusionAuthClient returns the client for cfg with the function's key source.
func FusionAuthClient(cfg config.FusionAuth, keys faclient.KeySource) (*faclient.Client, error) {
	fa, err := faclient.New(faclient.Options{BaseURL: cfg.URL, TenantID: cfg.TenantID, Keys: keys})
	if err != nil {
		return nil, fmt.Errorf("fusionauth client: %w", err)
	}
	return fa, nil
}

// CookieVerifier learns the signing key's kid and algorithm from FusionAuth's Key API
// and returns a verifier that accepts only visitor tokens signed by it.
func CookieVerifier(ctx context.Context, fa *faclient.Client, signingKeyID string) (*anon.Verifier, error) {
	return keyVerifier(ctx, fa, signingKeyID, anon.PurposeVisitor, true)
}

// keyVerifier returns a verifier pinned to the kid and algorithm of the Key Master key
// keyID, checked against FusionAuth's JWKS.
func keyVerifier(ctx context.Context, fa *faclient.Client, keyID, purpose string, requireExp bool) (*anon.Verifier, error) {
	kid, alg, err := anon.SigningKey(ctx, fa, keyID)
	if err != nil {
		return nil, err
	}
	return anon.NewVerifier(ctx, anon.VerifierOptions{
		JWKSURL:    fa.BaseURL() + faclient.JWKSPath,
		KID:        kid,
		Algorithm:  alg,
		Purpose:    purpose,
		RequireExp: requireExp,
	})
}

// cookieFunction builds what the video and register functions share: the client and
// the cookie verifier.
func cookieFunction(ctx context.Context, fc config.FusionAuth, cookie config.Cookie, keys faclient.KeySource) (*faclient.Client, *anon.Verifier, error) {
	fa, err := FusionAuthClient(fc, keys)
	if err != nil {
		return nil, nil, err
	}
	verifier, err := CookieVerifier(ctx, fa, cookie.SigningKeyID)
	if err != nil {
		return nil, nil, err
	}
	return fa, verifier, nil
}

// Video builds the GET /video handler.
func Video(ctx context.Context, cfg config.Video, keys faclient.KeySource, log *slog.Logger) (*site.Video, *faclient.Client, error) {
	fa, verifier, err := cookieFunction(ctx, cfg.FusionAuth, cfg.Cookie, keys)
	if err != nil {
		return nil, nil, err
	}
	return &site.Video{
		Visits:     anon.New(fa, cfg.SigningKeyID),
		Tokens:     verifier,
		CookieName: cfg.Cookie.Name,
		VideoURL:   cfg.VideoURL,
		Logger:     log,
	}, fa, nil
}

// Register builds the GET and POST /register handler.
func Register(ctx context.Context, cfg config.Register, keys faclient.KeySource, log *slog.Logger) (*site.Register, *faclient.Client, error) {
	fa, verifier, err := cookieFunction(ctx, cfg.FusionAuth, cfg.Cookie, keys)
	if err != nil {
		return nil, nil, err
	}
	return &site.Register{
		Conversions:   anon.NewConverter(fa, cfg.ApplicationID, nil),
		Tokens:        verifier,
		CookieName:    cfg.Cookie.Name,
		FusionAuthURL: cfg.PublicFusionAuthURL,
		ApplicationID: cfg.ApplicationID,
		RedirectURI:   cfg.RedirectURI,
		Origin:        cfg.Origin,
		Logger:        log,
	}, fa, nil
}

// Webhook builds the FusionAuth webhook handler. secret is the shared secret FusionAuth
// sends in cfg.SecretHeader ("" for none); with neither a secret nor a signing key the
// webhook would accept anyone, so that configuration is refused.
func Webhook(ctx context.Context, cfg config.Webhook, keys faclient.KeySource, secret string, log *slog.Logger) (*site.Webhook, *faclient.Client, error) {
	if secret == "" && cfg.SigningKeyID == "" {
		return nil, nil, errors.New("webhook: neither WEBHOOK_SIGNING_KEY_ID nor a webhookSecret in the secret is set; refusing to accept unauthenticated calls")
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
	if cfg.SigningKeyID != "" {
		// FusionAuth's signature JWT carries no purpose and, per its docs, no exp.
		h.Signatures, err = keyVerifier(ctx, fa, cfg.SigningKeyID, "", false)
		if err != nil {
			return nil, nil, err
		}
	}
	return h, fa, nil
}

// Pruner builds the prune pass for cfg.
func Pruner(cfg config.Prune, keys faclient.KeySource, log *slog.Logger) (*prune.Pruner, *faclient.Client, error) {
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
	}, log), fa, nil
}

// RunPrune runs one prune pass, logs its summary and writes it as CloudWatch metrics.
func RunPrune(ctx context.Context, p *prune.Pruner, metrics io.Writer, log *slog.Logger) (prune.Summary, error) {
	s, err := p.Run(ctx)
	if werr := prune.WriteEMF(metrics, s, time.Now()); werr != nil {
		log.WarnContext(ctx, "prune metrics not written", "error", werr)
	}
	if err != nil {
		log.ErrorContext(ctx, "prune failed", "summary", s, "error", err)
		return s, err
	}
	log.InfoContext(ctx, "prune finished", "summary", s)
	return s, nil
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
