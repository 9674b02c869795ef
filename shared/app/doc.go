// Package app holds what every function's entry point does around its own wiring: the
// JSON logger, the one cold-start failure path, and the FusionAuth client built from the
// function's configuration and its API-key secret.
//
// Each function's handler is built by its own small package, app/videoapp,
// app/registerapp, app/webhookapp and app/pruneapp, from the configuration config.Load*
// read. The Lambda entry points (functions/*) and the local stack (shared/devserver) call
// the same ones, so they cannot drift apart, and each function links only what it uses:
// no package here imports another function's code.
package app
