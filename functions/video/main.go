// Command video is the Lambda function behind GET /video (API Gateway HTTP API,
// payload format 2.0): the first visit creates an anonymous FusionAuth user and sets
// its cookie; later visits count up. Wiring only; behaviour lives in shared/.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/changebank/anonuser/shared/app"
	"github.com/changebank/anonuser/shared/app/videoapp"
	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/lambdahttp"
	"github.com/changebank/anonuser/shared/secrets"
)

func main() { app.Main(run) }

func run(ctx context.Context, log *slog.Logger) error {
	cfg, err := config.LoadVideo(config.NewEnv(os.LookupEnv))
	if err != nil {
		return err
	}
	sm, err := secrets.FromEnv(ctx, os.LookupEnv)
	if err != nil {
		return err
	}
	stores, err := app.DeployedStores(ctx, cfg.FusionAuth, cfg.Stubs.Table, os.LookupEnv)
	if err != nil {
		return err
	}
	h, err := videoapp.Build(ctx, cfg, sm, stores, log)
	if err != nil {
		return err
	}
	lambda.Start(lambdahttp.HTTPAPI(h))
	return nil
}
