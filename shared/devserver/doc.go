// Package devserver runs every function of the project on one local HTTP server,
// next to an embedded FusionAuth-compatible server configured from
// kickstart/kickstart.json (or next to a real FusionAuth given by URL). It is what
// `go run ./cmd/local` starts and what the browser tests drive. Everything listens on
// loopback.
package devserver
