// Command prune is the Lambda function run daily by an EventBridge schedule: it
// deletes anonymous users nobody touched within the retention and releases
// unverified emails, then logs a JSON summary and CloudWatch metrics. Wiring only;
// behaviour lives in shared/.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/changebank/anonuser/shared/app"
	"github.com/changebank/anonuser/shared/app/pruneapp"
	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/prune"
	"github.com/changebank/anonuser/shared/secrets"
)

func main() { app.Main(run) }

func run(ctx context.Context, log *slog.Logger) error {
	cfg, err := config.LoadPrune(config.NewEnv(os.LookupEnv))
	if err != nil {
		return err
	}
	sm, err := secrets.FromEnv(ctx, os.LookupEnv)
	if err != nil {
		return err
	}
	locks, err := app.ProfileLocks(ctx, cfg.FusionAuth, os.LookupEnv)
	if err != nil {
		return err
	}
	// Each run's metrics go to stdout, where CloudWatch picks them up.
	pruner, err := pruneapp.Build(ctx, cfg, sm, locks, os.Stdout, log)
	if err != nil {
		return err
	}
	lambda.Start(func(ctx context.Context, ev events.EventBridgeEvent) (prune.Summary, error) {
		return pruner.ForEvent(ev.Detail).Run(ctx)
	})
	return nil
}
