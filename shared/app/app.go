package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/changebank/anonuser/shared/apikey"
	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/metrics"
)

// NewLogger returns the JSON logger every function uses; LOG_LEVEL (debug, info,
// warn, error) sets its level, below which only the metrics' EMF lines are written.
func NewLogger(w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	_ = level.UnmarshalText([]byte(strings.ToUpper(os.Getenv("LOG_LEVEL"))))
	return slog.New(metrics.KeepMetrics(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}), level))
}

// Main runs a Lambda function's cold start: run reads the configuration, builds the
// handler and calls lambda.Start (which never returns). A cold-start failure is logged
// once as JSON and ends the process with a non-zero status, which Lambda reports as an
// init error.
func Main(run func(ctx context.Context, log *slog.Logger) error) {
	log := NewLogger(os.Stdout)
	if err := run(context.Background(), log); err != nil {
		log.Error("cold start failed", "error", err)
		os.Exit(1)
	}
}

// FusionAuth reads the function's API key from the secret cfg names (once; the key is
// re-read when FusionAuth answers 401) and returns the function's FusionAuth client with
// it, and the key's source, whose other fields some functions read.
func FusionAuth(ctx context.Context, cfg config.FusionAuth, secrets apikey.SecretReader) (*faclient.Client, *apikey.Source, error) {
	keys, err := apikey.Load(ctx, secrets, cfg.APIKeySecretID)
	if err != nil {
		return nil, nil, err
	}
	fa, err := faclient.New(faclient.Options{BaseURL: cfg.URL, TenantID: cfg.TenantID, Keys: keys})
	if err != nil {
		return nil, nil, fmt.Errorf("fusionauth client: %w", err)
	}
	return fa, keys, nil
}
