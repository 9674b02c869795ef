// Package registerapp builds the register function's handler (GET and POST /register)
// from its configuration. functions/register and the local stack both call it.
package registerapp

import (
	"fmt"
	"log/slog"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/site"
	"github.com/changebank/anonuser/shared/token"
)

// New builds the GET and POST /register handler for cfg. fa is the function's own
// FusionAuth client (app.FusionAuth) and keys the cookie's signing keys
// (cookiekeys.Load).
func New(cfg config.Register, fa *faclient.Client, keys []token.Key, log *slog.Logger) (*site.Register, error) {
	tokens, err := token.NewVisitor(keys, nil)
	if err != nil {
		return nil, fmt.Errorf("register: %w", err)
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
