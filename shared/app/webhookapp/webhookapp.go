// Package webhookapp builds the webhook function's handler (FusionAuth's login webhook)
// from its configuration. functions/webhook and the local stack both call it.
package webhookapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/apikey"
	"github.com/changebank/anonuser/shared/app"
	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/site"
	"github.com/changebank/anonuser/shared/token"
)

// SecretField is the field of the webhook's JSON secret that holds the shared secret
// FusionAuth sends in cfg.SecretHeader.
const SecretField = "webhookSecret"

// Build is the webhook function's cold start once cfg is read: its FusionAuth client with
// the API key from its secret, whose SecretField is the shared secret, then New, its 5xx
// counted (site.CountServerErrors). functions/webhook and the local stack call it.
func Build(ctx context.Context, cfg config.Webhook, sm apikey.SecretReader, stores app.Stores, log *slog.Logger) (http.Handler, error) {
	fa, source, err := app.FusionAuth(ctx, cfg.FusionAuth, sm)
	if err != nil {
		return nil, err
	}
	secret, _ := source.Value(SecretField)
	h, err := New(ctx, cfg, fa, secret, stores.Locks, log)
	if err != nil {
		return nil, err
	}
	return site.CountServerErrors(site.FunctionWebhook, log, h), nil
}

// New builds the webhook handler for cfg. fa is the function's own FusionAuth client and
// secret the shared secret FusionAuth sends ("" for none): with neither a secret nor a
// signing key the webhook would accept anyone, so that configuration is refused before
// any FusionAuth call. locks are the profile leases every function shares.
func New(ctx context.Context, cfg config.Webhook, fa *faclient.Client, secret string, locks anon.Locks, log *slog.Logger) (*site.Webhook, error) {
	if secret == "" && cfg.SigningKID == "" {
		return nil, errors.New("webhook: neither WEBHOOK_SIGNING_KID nor a " + SecretField + " in the secret is set; refusing to accept unauthenticated calls")
	}
	h := &site.Webhook{
		Secret:       secret,
		SecretHeader: cfg.SecretHeader,
		Conversions:  anon.NewConverter(fa, locks, anon.ConverterOptions{ApplicationID: cfg.ApplicationID}),
		Logger:       log,
	}
	if cfg.SigningKID != "" {
		// The kid is configuration: no Key API call at cold start. The JWKS is fetched
		// here, once; token.NewWebhook starts anyway if FusionAuth cannot answer yet.
		v, err := token.NewWebhook(ctx, token.WebhookOptions{
			JWKSURL:    fa.BaseURL() + faclient.JWKSPath,
			KID:        cfg.SigningKID,
			HTTPClient: faclient.DefaultHTTPClient(),
		})
		if err != nil {
			return nil, fmt.Errorf("webhook: %w", err)
		}
		h.Signatures = v
	}
	return h, nil
}
