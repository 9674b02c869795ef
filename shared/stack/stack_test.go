package stack_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/fatest"
	"github.com/changebank/anonuser/shared/stack"
)

func TestWebhookRefusesConfigurationWithoutAuthentication(t *testing.T) {
	fa := fatest.NewTestServer(t, fatest.Options{})
	cfg := config.Webhook{FusionAuth: config.FusionAuth{URL: fa.URL(), TenantID: fa.Variable("defaultTenantId")}}
	_, _, err := stack.Webhook(context.Background(), cfg, faclient.StaticKey(fa.Variable("webhookApiKey")), "", slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), "WEBHOOK_SIGNING_KEY_ID") {
		t.Fatalf("err=%v, want a refusal naming WEBHOOK_SIGNING_KEY_ID", err)
	}
	if fa.TotalCalls() != 0 {
		t.Errorf("refused configuration still called FusionAuth %d times", fa.TotalCalls())
	}
}

func TestColdStartFailsOnUnknownSigningKey(t *testing.T) {
	fa := fatest.NewTestServer(t, fatest.Options{})
	cfg := config.Video{
		FusionAuth: config.FusionAuth{URL: fa.URL(), TenantID: fa.Variable("defaultTenantId")},
		Cookie:     config.Cookie{SigningKeyID: "00000000-0000-4000-8000-00000000dead", Name: "anon_user"},
	}
	_, _, err := stack.Video(context.Background(), cfg, faclient.StaticKey(fa.Variable("videoApiKey")), slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), "00000000-0000-4000-8000-00000000dead") {
		t.Fatalf("err=%v, want a cold-start error naming the missing key", err)
	}
}
