package contract_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/changebank/anonuser/shared/faclient"
)

// TestSendEmailToAnAddress: the Send Email API (POST /api/email/send/{emailTemplateId})
// mails an address that belongs to no user (toAddresses, FusionAuth 1.28+), renders the
// template's requestData, and answers with no per-recipient errors. This is how the
// register function tells the owner of a taken address that they have an account,
// without looking the owner up. A request without any recipient is refused.
func TestSendEmailToAnAddress(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		e := tg.open(t)
		ctx := context.Background()
		register := e.client(t, e.apiKey(t, "registerApiKey"))
		template := e.variable(t, "accountExistsEmailTemplateId")
		address := uniqueEmail("nobody")
		const signIn = "https://fusionauth.example/oauth2/authorize?client_id=x&response_type=code"
		resp, err := register.SendEmail(ctx, template, faclient.SendRequest{
			ApplicationID: e.variable(t, "applicationId"),
			ToAddresses:   []faclient.EmailAddress{{Address: address}},
			RequestData:   map[string]any{"signInURL": signIn},
		})
		if err != nil {
			t.Fatalf("send: %v", err)
		}
		if len(resp.AnonymousResults) != 0 || len(resp.Results) != 0 {
			t.Errorf("send answered errors: %+v", resp)
		}
		if x := e.lastExchange(t, http.MethodPost, "/api/email/send/"); x.Status != http.StatusAccepted && x.Status != http.StatusOK {
			t.Errorf("status %d, want 202 (documented) or 200", x.Status)
		}
		if e.compat() {
			out := e.srv.Outbox()
			if len(out) != 1 || out[0].To != address || out[0].UserID != "" || out[0].Link != signIn ||
				out[0].Subject != "You already have a ChangeBank account" || !strings.Contains(out[0].HTML, `href="`+signIn+`"`) {
				t.Errorf("outbox %+v, want one account-exists email to %s with the sign-in link", out, address)
			}
		}
		if _, err := register.SendEmail(ctx, template, faclient.SendRequest{RequestData: map[string]any{"signInURL": signIn}}); statusOf(err) != http.StatusBadRequest {
			t.Errorf("send without recipients: %v, want 400", err)
		}
	})
}
