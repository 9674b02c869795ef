// Command prune is the Lambda function run daily by an EventBridge schedule: it
// deletes anonymous users nobody touched within the retention and releases
// unverified emails, then logs a JSON summary and CloudWatch metrics. Wiring only;
// behaviour lives in shared/.
package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/prune"
	"github.com/changebank/anonuser/shared/app"
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
	pruner, _, err := app.Pruner(cfg, keys, log)
	if err != nil {
		return err
	}
	lambda.Start(func(ctx context.Context, ev events.EventBridgeEvent) (prune.Summary, error) {
		p := pruner
		// A manual invoke may ask for a dry run: {"detail": {"dryRun": true}}.
		var detail struct {
			DryRun bool `json:"dryRun"`
		}
		if len(ev.Detail) > 0 && json.Unmarshal(ev.Detail, &detail) == nil && detail.DryRun {
			p = pruner.WithDryRun(true)
		}
		return app.RunPrune(ctx, p, os.Stdout, log)
	})
	return nil
}
