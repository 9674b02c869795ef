// Package browser holds the end-to-end test of the whole product in headless
// Chromium. Device A watches the video twice, asks for an account, follows the
// set-password link from the email, logs in on FusionAuth's hosted page (the ChangeBank
// theme, on the stand-in the address filled in) and lands on /video signed in, with its
// count; the anonymous cookie it had before no longer reaches the account. Device B
// (another browser context) signs in and counts on the same account. Device C watches
// three times anonymously, signs in to the regular user's existing account (5 watches,
// given by device D) and sees 8, its stub deleted; it logs out, and /video no longer
// counts on the account. A refused sign-in shows a page that offers to try again.
//
// The test runs where e2e/flow's Target points: by default the in-memory local stack
// (shared/devserver: every function plus the embedded FusionAuth-compatible server, the
// email read from its outbox page) on loopback; with APP_URL, FUSIONAUTH_URL,
// FUSIONAUTH_API_KEY and MAILPIT_URL set, a running stack (`go run ./cmd/local` or `sam
// local start-api`) in front of a real FusionAuth, the email read from Mailpit. It
// saves a full-page PNG of every page it looks at to $ARTIFACTS_DIR/browser/ (default:
// artifacts/browser/ under the module root). It needs the chromium binary on PATH:
// without it the test skips, or fails when CI=true.
package browser
