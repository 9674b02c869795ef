// Package browser holds the end-to-end test of the whole product in headless
// Chromium: a visitor watches the video twice, asks for an account, follows the
// set-password link from the email, logs in on FusionAuth's hosted page and comes back
// to a converted account that kept its watch count.
//
// The test runs where e2e/flow's Target points: by default the in-memory local stack
// (shared/devserver: every function plus the embedded FusionAuth-compatible server, the
// email read from its outbox page) on loopback; with APP_URL, FUSIONAUTH_URL,
// FUSIONAUTH_API_KEY and MAILPIT_URL set, a running stack (`go run ./cmd/local` or `sam
// local start-api`) in front of a real FusionAuth, the email read from Mailpit. It
// saves a full-page PNG of every page it visits to $ARTIFACTS_DIR/browser/ (default:
// artifacts/browser/ under the module root). It needs the chromium binary on PATH:
// without it the test skips, or fails when CI=true.
package browser
