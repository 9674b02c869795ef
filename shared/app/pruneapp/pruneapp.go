// Package pruneapp builds the prune function's pass from its configuration.
// functions/prune and the local stack's schedule both call it.
package pruneapp

import (
	"log/slog"
	"time"

	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/prune"
)

// New returns the prune pass for cfg. fa is the function's own FusionAuth client.
func New(cfg config.Prune, fa *faclient.Client, log *slog.Logger) *prune.Pruner {
	return prune.New(fa, prune.Options{
		Retention:    days(cfg.RetentionDays),
		PendingEmail: days(cfg.PendingEmailDays),
		MaxPerRun:    cfg.MaxPerRun,
		BatchSize:    cfg.BatchSize,
		DryRun:       cfg.DryRun,
	}, log)
}

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }
