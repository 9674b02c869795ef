// Package flow holds the end-to-end test of the product over plain HTTP (no browser):
// a visitor watches, asks for an account, reads the set-password email, sets a password
// on FusionAuth's page, logs in (FusionAuth calls the webhook, which converts the
// profile), and a prune dry run counts a second, untouched stub without deleting it.
//
// It also holds Target, where the end-to-end tests run (this one and e2e/browser), so
// that one test binary serves both targets:
//
//   - by default, an in-memory stack: shared/devserver with the embedded
//     FusionAuth-compatible server, whose outbox stands in for the mail catcher. This is
//     what .ci/run and scripts/test.sh run.
//   - with APP_URL set, a running local stack (`go run ./cmd/local` with FUSIONAUTH_URL
//     pointing at a real FusionAuth, or `sam local start-api`), the real FusionAuth at
//     FUSIONAUTH_URL (users are read with FUSIONAUTH_API_KEY) and the Mailpit at
//     MAILPIT_URL that FusionAuth sends its email to. scripts/realfa.sh and the GitHub
//     workflow set these after `docker compose up`.
//
// The real target must have been configured from kickstart/kickstart.json: the tests
// read its ids (application, tenant) from that file.
package flow
