// Package webhookapp builds the webhook function's handler (FusionAuth's login webhook)
// from its configuration. functions/webhook and the local stack both call it.
package webhookapp

import (
	"context"
	"errors"
	"log/slog"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/app"
	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/site"
)

// SecretField is the field of the webhook's JSON secret that holds the shared secret
// FusionAuth sends in cfg.SecretHeader.
const SecretField = "webhookSecret"

// New builds the webhook handler for cfg. fa is the function's own FusionAuth client and
// secret the shared secret FusionAuth sends ("" for none): with neither a secret nor a
// signing key the webhook would accept anyone, so that configuration is refused before
// any FusionAuth call.
func New(ctx context.Context, cfg config.Webhook, fa *faclient.Client, secret string, log *slog.Logger) (*site.Webhook, error) {
	if secret == "" && cfg.SigningKeyID == "" {
		return nil, errors.New("webhook: neither WEBHOOK_SIGNING_KEY_ID nor a " + SecretField + " in the secret is set; refusing to accept unauthenticated calls")
	}
	h := &site.Webhook{
		Secret:       secret,
		SecretHeader: cfg.SecretHeader,
		Conversions:  anon.NewConverter(fa, cfg.ApplicationID, nil),
		Logger:       log,
	}
	if cfg.SigningKeyID != "" {
		// FusionAuth's signature JWT carries no purpose and, per its docs, no exp.
		v, err := app.KeyVerifier(ctx, fa, cfg.SigningKeyID, "", false)
		if err != nil {
			return nil, err
		}
		h.Signatures = v
	}
	return h, nil
}
