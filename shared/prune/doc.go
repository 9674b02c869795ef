// Package prune deletes stale anonymous users and releases unverified emails, in
// bounded batches through FusionAuth's user search and bulk delete: a few API calls
// per ten thousand users, never one call per deleted user.
//
// A run stops cleanly at a per-run cap or before its deadline; everything it did is
// already committed in FusionAuth, so the next run simply continues.
package prune
