// Package pruneapp builds the prune function's pass from its configuration.
// functions/prune and the local stack's schedule both call it.
package pruneapp

import (
	"io"
	"log/slog"
	"time"

	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/prune"
)

// New returns the prune pass for cfg. fa is the function's own FusionAuth client; each
// run writes its metrics to metrics (nil: nowhere) and logs its summary to log.
func New(cfg config.Prune, fa *faclient.Client, metrics io.Writer, log *slog.Logger) *prune.Pruner {
	return prune.New(fa, prune.Options{
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
