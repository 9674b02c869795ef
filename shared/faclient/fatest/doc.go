// Package fatest is an in-memory server that answers the subset of the FusionAuth HTTP API
// this project uses, the way FusionAuth does (see reference/fusionauth-api.md beside the
// checkout): users (create, retrieve, PUT, PATCH in its JSON and merge-patch flavours,
// soft and hard delete, bulk delete), user search over the Elasticsearch query subset of
// package esquery, Key Master keys with a published JWKS, JWT vending, forgot and change
// password with rendered emails, login with signed webhooks, and the configuration
// endpoints a kickstart.json calls.
//
// It is strict on purpose: requests FusionAuth would refuse are refused with FusionAuth's
// status codes and Errors bodies (fieldErrors keyed by field path; 401, 404 and 500 with
// an empty body), and queries or templates it cannot evaluate are errors, never a silent
// best effort, so that code tested against it behaves the same against a real FusionAuth.
//
// Tests use NewTestServer; the local stack uses Start. Both load a kickstart file the same
// way FusionAuth does, so one kickstart.json configures the real server and this one.
// Tests can observe calls per endpoint (Calls), sent emails (Outbox) and webhook
// deliveries (Deliveries), and inject faults and latency per endpoint. ModuleRoot finds
// the checkout (the directory holding go.mod) for them and for the repository's tools.
package fatest
