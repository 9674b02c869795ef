// Package pruneapp builds the prune function's pass from its configuration.
// functions/prune and the local stack's schedule both call it.
package pruneapp

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/apikey"
	"github.com/changebank/anonuser/shared/app"
	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/prune"
)

// Build is the prune function's cold start once cfg is read: its FusionAuth client with
// the API key from its secret, then New. functions/prune and the local stack call it.
func Build(ctx context.Context, cfg config.Prune, sm apikey.SecretReader, locks anon.Locks, metrics io.Writer, log *slog.Logger) (*prune.Pruner, error) {
	fa, _, err := app.FusionAuth(ctx, cfg.FusionAuth, sm)
	if err != nil {
		return nil, err
	}
	return New(cfg, fa, locks, metrics, log), nil
}

// New returns the prune pass for cfg. fa is the function's own FusionAuth client; each
// run writes its metrics to metrics (nil: nowhere) and logs its summary to log; its
// per-user writes take the profile leases every function shares (locks).
func New(cfg config.Prune, fa *faclient.Client, locks anon.Locks, metrics io.Writer, log *slog.Logger) *prune.Pruner {
	return prune.New(fa, locks, prune.Options{
		Retention:         days(cfg.RetentionDays),
		RetentionOneVisit: days(cfg.OneVisitDays),
		PendingEmail:      days(cfg.PendingEmailDays),
		MaxPerRun:         cfg.MaxPerRun,
		BatchSize:         cfg.BatchSize,
		DryRun:            cfg.DryRun,
		Metrics:           metrics,
	}, log)
}

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }
