// Package videoapp builds the video function's handler (GET /video) from its
// configuration. functions/video and the local stack both call it.
package videoapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/apikey"
	"github.com/changebank/anonuser/shared/app"
	"github.com/changebank/anonuser/shared/app/cookiekeys"
	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/limit"
	"github.com/changebank/anonuser/shared/site"
	"github.com/changebank/anonuser/shared/token"
)

// The names of the video function's limits in the client limits table (and the Limit
// dimension of its ClientOverLimit metric).
const (
	StubRule      = site.LimitStub      // anonymous profiles one client starts per hour (STUBS_PER_CLIENT_HOUR)
	TotalStubRule = site.LimitStubTotal // and all clients together per UTC day (STUBS_PER_DAY)
)

// Build is the video function's cold start once cfg is read: its FusionAuth client with
// the API key from its secret and the cookie keys from theirs
// (cookiekeys.WithFusionAuth), then New, its 5xx counted (site.CountServerErrors).
// functions/video and the local stack call it.
func Build(ctx context.Context, cfg config.Video, sm apikey.SecretReader, stores app.Stores, log *slog.Logger) (http.Handler, error) {
	fa, _, keys, err := cookiekeys.WithFusionAuth(ctx, cfg.FusionAuth, cfg.Cookie.KeysSecretID, sm)
	if err != nil {
		return nil, err
	}
	v, err := New(cfg, fa, keys, stores, log)
	if err != nil {
		return nil, err
	}
	return site.CountServerErrors(site.FunctionVideo, log, v), nil
}

// New builds the GET /video handler for cfg. fa is the function's own FusionAuth client
// (app.FusionAuth) and keys the cookies' signing keys (cookiekeys.Load): signing and
// checking the visitor cookie and the session needs no FusionAuth call. stores are the
// profile leases and the per-client counts every instance shares (app.DeployedStores);
// without the counts there is no video function: a first visit must never be unlimited.
func New(cfg config.Video, fa *faclient.Client, keys []token.Key, stores app.Stores, log *slog.Logger) (*site.Video, error) {
	if stores.Limits == nil {
		return nil, fmt.Errorf("video: no client limits store")
	}
	cookies, err := token.NewCookies(keys, nil)
	if err != nil {
		return nil, fmt.Errorf("video: %w", err)
	}
	limits := &site.ClientLimit{
		Limits:  stores.Limits,
		Rule:    limit.Rule{Name: StubRule, Max: cfg.Stubs.PerHour, Per: time.Hour},
		Total:   limit.Rule{Name: TotalStubRule, Max: cfg.StubsPerDay, Per: 24 * time.Hour},
		Clients: site.Clients{Trusted: cfg.Stubs.TrustedProxies},
	}
	if err := errors.Join(limits.Rule.Validate(), limits.Total.Validate()); err != nil {
		return nil, fmt.Errorf("video: %w", err)
	}
	return &site.Video{
		Visits:      anon.NewWith(fa, stores.Locks, anon.Options{VideoSeconds: cfg.VideoSeconds}),
		Origin:      cfg.Origin,
		Tokens:      cookies.Visitor,
		Sessions:    cookies.Session,
		CookieName:  cfg.Cookie.Name,
		SessionName: site.DefaultSessionCookie,
		VideoURL:    cfg.VideoURL,
		NewProfiles: limits,
		Logger:      log,
	}, nil
}
