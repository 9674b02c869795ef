package apikey

import (
	"context"
	"errors"
	"testing"

	"github.com/changebank/anonuser/shared/secrets/smtest"
)

// TestRefreshWaitHonoursContext holds the re-read token as an in-flight re-read would and checks
// that a waiting caller gives up with its context instead of blocking or reading.
func TestRefreshWaitHonoursContext(t *testing.T) {
	srv := smtest.NewServer(t, map[string]string{"id": "fa-key-1"})
	s, err := Load(t.Context(), srv.Client(t), "id")
	if err != nil {
		t.Fatalf("Load: got error %v, want nil", err)
	}
	srv.Set("id", "fa-key-2")

	s.refreshing <- struct{}{} // a re-read is in flight
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	got, err := s.RefreshAPIKey(ctx, "fa-key-1")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("RefreshAPIKey while another re-read is in flight: got (%q, %v), want error wrapping %v", got, err, context.Canceled)
	}
	if n := s.Reads(); n != 1 {
		t.Errorf("Reads(): got %d, want 1", n)
	}

	<-s.refreshing // the in-flight re-read ends without changing the key
	if got, err := s.RefreshAPIKey(t.Context(), "fa-key-1"); err != nil || got != "fa-key-2" {
		t.Errorf("RefreshAPIKey after the token is free: got (%q, %v), want (%q, nil)", got, err, "fa-key-2")
	}
}
