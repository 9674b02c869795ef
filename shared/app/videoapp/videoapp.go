// Package videoapp builds the video function's handler (GET /video) from its
// configuration. functions/video and the local stack both call it.
package videoapp

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/apikey"
	"github.com/changebank/anonuser/shared/app/cookiekeys"
	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/site"
	"github.com/changebank/anonuser/shared/token"
)

// Build is the video function's cold start once cfg is read: its FusionAuth client with
// the API key from its secret and the cookie keys from theirs
// (cookiekeys.WithFusionAuth), then New. functions/video and the local stack call it.
func Build(ctx context.Context, cfg config.Video, sm apikey.SecretReader, locks anon.Locks, log *slog.Logger) (*site.Video, error) {
	fa, _, keys, err := cookiekeys.WithFusionAuth(ctx, cfg.FusionAuth, cfg.Cookie.KeysSecretID, sm)
	if err != nil {
		return nil, err
	}
	return New(cfg, fa, keys, locks, log)
}

// New builds the GET /video handler for cfg. fa is the function's own FusionAuth client
// (app.FusionAuth) and keys the cookies' signing keys (cookiekeys.Load): signing and
// checking the visitor cookie and the session needs no FusionAuth call. locks are the
// profile leases every function shares (app.ProfileLocks).
func New(cfg config.Video, fa *faclient.Client, keys []token.Key, locks anon.Locks, log *slog.Logger) (*site.Video, error) {
	cookies, err := token.NewCookies(keys, nil)
	if err != nil {
		return nil, fmt.Errorf("video: %w", err)
	}
	return &site.Video{
		Visits:      anon.New(fa, locks),
		Tokens:      cookies.Visitor,
		Sessions:    cookies.Session,
		CookieName:  cfg.Cookie.Name,
		SessionName: site.DefaultSessionCookie,
		VideoURL:    cfg.VideoURL,
		Logger:      log,
	}, nil
}
