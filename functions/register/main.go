// Command register is the Lambda function behind GET and POST /register and the
// sign-in, GET /login, /callback and /logout (API Gateway HTTP API, payload format
// 2.0): an anonymous visitor gives an email and FusionAuth mails a link to set a
// password; a person signs in through FusionAuth's hosted login. Wiring only;
// behaviour lives in shared/.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/changebank/anonuser/shared/app"
	"github.com/changebank/anonuser/shared/app/registerapp"
	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/lambdahttp"
	"github.com/changebank/anonuser/shared/secrets"
)

func main() { app.Main(run) }

func run(ctx context.Context, log *slog.Logger) error {
	cfg, err := config.LoadRegister(config.NewEnv(os.LookupEnv))
	if err != nil {
		return err
	}
	sm, err := secrets.FromEnv(ctx, os.LookupEnv)
	if err != nil {
		return err
	}
	stores, err := app.DeployedStores(ctx, cfg.FusionAuth, cfg.Requests.Table, os.LookupEnv)
	if err != nil {
		return err
	}
	h, err := registerapp.Build(ctx, cfg, sm, stores, log)
	if err != nil {
		return err
	}
	lambda.Start(lambdahttp.HTTPAPI(h))
	return nil
}
