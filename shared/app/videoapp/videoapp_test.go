package videoapp_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/changebank/anonuser/shared/app/videoapp"
	"github.com/changebank/anonuser/shared/config"
	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/faclient/fatest"
)

func TestColdStartFailsOnUnknownSigningKey(t *testing.T) {
	fa := fatest.NewTestServer(t, fatest.Options{})
	client, err := faclient.New(faclient.Options{BaseURL: fa.URL(), Keys: faclient.StaticKey(fa.Variable("videoApiKey"))})
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Video{
		FusionAuth: config.FusionAuth{URL: fa.URL(), TenantID: fa.Variable("defaultTenantId")},
		Cookie:     config.Cookie{SigningKeyID: "00000000-0000-4000-8000-00000000dead", Name: config.DefaultCookieName},
	}
	_, err = videoapp.New(context.Background(), cfg, client, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), "00000000-0000-4000-8000-00000000dead") {
		t.Fatalf("err=%v, want a cold-start error naming the missing key", err)
	}
}
