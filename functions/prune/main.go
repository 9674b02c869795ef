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
	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/prune"
)

func main() { app.Main(run) }

func run(ctx context.Context, log *slog.Logger) error {
	cfg, err := config.LoadPrune(config.NewEnv(os.LookupEnv))
	if err != nil {
		return err
	}
	keys, err := app.LoadAPIKey(ctx, cfg.APIKeySecretID)
	if err != nil {
		return err
	}
	pruner, _, err := app.Pruner(cfg, keys, os.Stdout, log)
	if err != nil {
		return err
	}
	lambda.Start(func(ctx context.Context, ev events.EventBridgeEvent) (prune.Summary, error) {
		return pruner.ForEvent(ev.Detail).Run(ctx)
	})
	return nil
}
