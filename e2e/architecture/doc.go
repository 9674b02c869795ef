// Package architecture holds the test that keeps the import rules of the project
// true: the domain speaks its own language, the web layer does not reach past it into
// FusionAuth's client or JWT internals, the FusionAuth stand-in stays out of
// production code, and each Lambda binary carries only its own code. The rules are
// read from `go list -deps -json`, so they hold for what the compiler really links.
package architecture
