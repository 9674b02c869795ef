package flow_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/changebank/anonuser/e2e/flow"
)

// TestEmailLinkFromMailpit: on a running stack the set-password link is read from
// Mailpit's HTTP API. This runs a real Mailpit (the binary scripts/tools.sh installs),
// delivers mail to it over SMTP as FusionAuth does, and reads the link through the
// Target that APP_URL selects: the newest message to the address, not another one's.
func TestEmailLinkFromMailpit(t *testing.T) {
	mailpit, err := exec.LookPath("mailpit")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mailpit not found on PATH (%v); CI must install it (scripts/tools.sh)", err)
		}
		t.Skipf("mailpit not found on PATH (%v); install it with scripts/tools.sh", err)
	}
	httpAddr, smtpAddr := freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, mailpit, "--listen", httpAddr, "--smtp", smtpAddr,
		"--database", filepath.Join(t.TempDir(), "mailpit.db"), "--disable-version-check", "--quiet")
	cmd.Stdout, cmd.Stderr = t.Output(), t.Output()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start mailpit: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait() // killed by the context: its error says so
	})
	mailpitURL := "http://" + httpAddr
	flow.Eventually(t, 20*time.Second, "mailpit to answer", func() bool {
		resp, err := http.Get(mailpitURL + "/api/v1/info")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	// Nothing else is contacted: User and the pages are not used here.
	t.Setenv(flow.EnvAppURL, "http://127.0.0.1:1")
	t.Setenv(flow.EnvFusionAuthURL, "http://127.0.0.1:1")
	t.Setenv(flow.EnvAPIKey, "unused")
	t.Setenv(flow.EnvMailpitURL, mailpitURL)
	tg := flow.Open(t)
	if tg.Embedded() {
		t.Fatal("Open with APP_URL set: got the in-memory stack, want the running one")
	}

	to := flow.UniqueEmail("ada")
	send(t, smtpAddr, to, "http://localhost:9011/password/change/first?tenantId=t")
	send(t, smtpAddr, to, "http://localhost:9011/password/change/second?tenantId=t&anon_user=true")
	send(t, smtpAddr, flow.UniqueEmail("someone.else"), "http://localhost:9011/password/change/not-this-one?tenantId=t")

	if got, want := tg.EmailLink(t, to), "http://localhost:9011/password/change/second?tenantId=t&anon_user=true"; got != want {
		t.Errorf("EmailLink(%s): got %s, want %s (the newest message to that address)", to, got, want)
	}
}

// send delivers a plain-text email with the link, as FusionAuth's SMTP client would.
func send(t *testing.T, smtpAddr, to, link string) {
	t.Helper()
	msg := fmt.Sprintf("From: ChangeBank <no-reply@changebank.example>\r\nTo: %s\r\nSubject: Set your ChangeBank password\r\n"+
		"Content-Type: text/plain; charset=UTF-8\r\n\r\nSet a password to finish creating your account:\r\n\r\n%s\r\n\r\nThis link works once.\r\n", to, link)
	if err := smtp.SendMail(smtpAddr, nil, "no-reply@changebank.example", []string{to}, []byte(msg)); err != nil {
		t.Fatalf("send mail to %s: %v", to, err)
	}
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}
