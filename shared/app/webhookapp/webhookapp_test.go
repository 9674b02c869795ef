package webhookapp_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/changebank/anonuser/shared/app/webhookapp"
	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/faclient/fatest"
	"github.com/changebank/anonuser/shared/lock"
)

func TestRefusesConfigurationWithoutAuthentication(t *testing.T) {
	fa := fatest.NewTestServer(t, fatest.Options{})
	client, err := faclient.New(faclient.Options{BaseURL: fa.URL(), Keys: faclient.StaticKey(fa.Variable("webhookApiKey"))})
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Webhook{FusionAuth: config.FusionAuth{URL: fa.URL(), TenantID: fa.Variable("visitorTenantId")}}
	_, err = webhookapp.New(context.Background(), cfg, client, "", lock.NewMemory(), slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), "WEBHOOK_SIGNING_KID") {
		t.Fatalf("err=%v, want a refusal naming WEBHOOK_SIGNING_KID", err)
	}
	if fa.TotalCalls() != 0 {
		t.Errorf("refused configuration still called FusionAuth %d times", fa.TotalCalls())
	}
}
