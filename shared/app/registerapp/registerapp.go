// Package registerapp builds the register function's handler (GET and POST /register)
// from its configuration. functions/register and the local stack both call it.
package registerapp

import (
	"context"
	"log/slog"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/app"
	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/site"
)

// New builds the GET and POST /register handler for cfg. fa is the function's own
// FusionAuth client (app.FusionAuth).
func New(ctx context.Context, cfg config.Register, fa *faclient.Client, log *slog.Logger) (*site.Register, error) {
	tokens, err := app.KeyVerifier(ctx, fa, cfg.SigningKeyID, anon.PurposeVisitor, true)
	if err != nil {
		return nil, err
	}
	return &site.Register{
		Conversions:   anon.NewConverter(fa, cfg.ApplicationID, nil),
		Tokens:        tokens,
		CookieName:    cfg.Cookie.Name,
		FusionAuthURL: cfg.PublicFusionAuthURL,
		ApplicationID: cfg.ApplicationID,
		RedirectURI:   cfg.RedirectURI,
		Origin:        cfg.Origin,
		Logger:        log,
	}, nil
}
