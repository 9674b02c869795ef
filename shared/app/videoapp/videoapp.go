// Package videoapp builds the video function's handler (GET /video) from its
// configuration. functions/video and the local stack both call it.
package videoapp

import (
	"context"
	"log/slog"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/app"
	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/site"
)

// New builds the GET /video handler for cfg. fa is the function's own FusionAuth client
// (app.FusionAuth).
func New(ctx context.Context, cfg config.Video, fa *faclient.Client, log *slog.Logger) (*site.Video, error) {
	tokens, err := app.KeyVerifier(ctx, fa, cfg.SigningKeyID, anon.PurposeVisitor, true)
	if err != nil {
		return nil, err
	}
	return &site.Video{
		Visits:     anon.New(fa, cfg.SigningKeyID),
		Tokens:     tokens,
		CookieName: cfg.Cookie.Name,
		VideoURL:   cfg.VideoURL,
		Logger:     log,
	}, nil
}
