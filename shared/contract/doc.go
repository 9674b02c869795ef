// Package contract holds the FusionAuth contract test suite: one set of tests, run
// with the project's typed client (shared/faclient) against every configured target,
// that pins down how FusionAuth answers the calls this project makes. The package has
// no production code; everything is in its _test.go files.
//
// Targets (every contract test runs as one subtest per target, named after it):
//
//   - compat: the in-memory FusionAuth-compatible server (shared/faclient/fatest), started per
//     test from kickstart/kickstart.json with a controllable clock. Every response it
//     sends is validated against FusionAuth's OpenAPI file through fatest's OnResponse
//     hook; a response that does not validate fails the test that caused it. Tests
//     that need powers only fatest has (its outbox, its clock, injected faults) run
//     on this target only.
//   - real: a real FusionAuth, used when FUSIONAUTH_URL and FUSIONAUTH_API_KEY are set
//     (skipped otherwise, also under CI, which has no FusionAuth). It must have been
//     configured from the same kickstart/kickstart.json (its fixed ids are read from
//     that file) and use the Elasticsearch search engine. The functions' tenant-locked keys
//     are the kickstart's values unless FUSIONAUTH_LIMITED_API_KEY (the video function's),
//     FUSIONAUTH_REGISTER_API_KEY, FUSIONAUTH_PRUNE_API_KEY or FUSIONAUTH_WEBHOOK_API_KEY
//     give others. The tests act in the visitors' tenant (visitorTenantId), create users
//     with random @example.com addresses and delete them again.
//
// The OpenAPI file is read from ../shared/reference/fusionauth-openapi.yaml relative to
// the module root, or from FUSIONAUTH_OPENAPI. Without it the compat target is skipped,
// except under CI=true where that is a failure. The file's known errors (see §17 of
// fusionauth-api.md) are patched or handled one by one in openapi_test.go; each patch
// first checks that the error is still there, so a corrected file fails loudly instead
// of leaving a stale exception behind. The requests the client sends are validated
// against the same file, on both targets.
//
// Run: go test -race ./shared/contract/
package contract
