// Package lambdart runs the functions' real Lambda bootstraps under the AWS Lambda Runtime
// Interface Emulator (aws-lambda-rie), so tests and the cold-start benchmark exercise the
// same contract the Lambda service uses: the binary built as SAM builds it (linux, cgo off,
// lambda.norpc), the environment as the only configuration, event JSON in and response JSON
// out through the Runtime API.
//
// Build compiles bootstraps; Start runs one emulator per bootstrap on loopback ports;
// Emulator.Invoke sends one event at a time (the emulator does not survive overlapping
// invokes). The package test (lambdart_test.go) drives the whole visitor flow through the
// four functions against the in-memory FusionAuth (shared/faclient/fatest) and a fake Secrets Manager
// (shared/secrets/smtest); scripts/coldstart measures cold starts with the same helpers.
//
// The emulator runs on Linux only. FindRIE reports it missing elsewhere, and the test then
// skips (or fails under CI=true).
package lambdart
