// Package browser holds the end-to-end test of the whole product in headless
// Chromium: a visitor watches the video twice, asks for an account, follows the
// set-password link from the local outbox, logs in on FusionAuth's hosted page and
// comes back to a converted account that kept its watch count.
//
// The test drives the local stack (shared/devserver: every function plus the
// embedded FusionAuth-compatible server) on loopback, and saves a full-page PNG of
// every page it visits to $ARTIFACTS_DIR/browser/ (default: artifacts/browser/
// under the module root). It needs the chromium binary on PATH: without it the test
// skips, or fails when CI=true.
package browser
