// Command webhook is the Lambda function behind FusionAuth's webhook (a Lambda
// Function URL, buffered): on a stub user's first login it makes the account a
// regular one. Every call is authenticated before its body is read. Wiring only;
// behaviour lives in shared/.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/changebank/anonuser/shared/app"
	"github.com/changebank/anonuser/shared/app/webhookapp"
	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/lambdahttp"
	"github.com/changebank/anonuser/shared/secrets"
)

func main() { app.Main(run) }

func run(ctx context.Context, log *slog.Logger) error {
	cfg, err := config.LoadWebhook(config.NewEnv(os.LookupEnv))
	if err != nil {
		return err
	}
	sm, err := secrets.FromEnv(ctx, os.LookupEnv)
	if err != nil {
		return err
	}
	stores, err := app.DeployedStores(ctx, cfg.FusionAuth, "", os.LookupEnv)
	if err != nil {
		return err
	}
	h, err := webhookapp.Build(ctx, cfg, sm, stores, log)
	if err != nil {
		return err
	}
	lambda.Start(lambdahttp.FunctionURL(h))
	return nil
}
