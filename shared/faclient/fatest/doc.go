// Package fatest is an in-memory server that answers the subset of the FusionAuth HTTP API
// this project uses, the way FusionAuth does (see reference/fusionauth-api.md beside the
// checkout): users (create, retrieve by id or email, PATCH in FusionAuth's JSON flavour
// and as a JSON Patch document, soft and hard delete, reactivate, bulk delete), user
// search (queryString and query, over the subsets of package esquery; paging, sortFields,
// nextResults, expand), Key Master RSA keys with a published JWKS, JWT vending, forgot and
// change password with emails rendered by package freemarker, login with signed webhooks,
// FusionAuth's hosted set-password, login and registration pages, and the configuration
// endpoints a kickstart.json calls.
//
// It is strict on purpose: requests FusionAuth would refuse are refused with FusionAuth's
// status codes and Errors bodies (fieldErrors keyed by field path; 401, 404 and 500 with
// an empty body). What FusionAuth would serve but this server does not implement is
// refused too, never answered with a silent best effort: an unknown endpoint with 501
// and another method on a known one with 405, both naming the FusionAuth API in
// NotImplementedHeader; an unimplemented option, content type or query kind with 400
// [UnsupportedRequest] (both counted by Unsupported), so that code tested against it
// behaves the same against a real FusionAuth. docs/stand-in.md lists what it does not implement.
//
// Tests use NewTestServer; the local stack uses Start. Both load a kickstart file the same
// way FusionAuth does, so one kickstart.json configures the real server and this one.
// Tests can observe calls per endpoint (Calls), sent emails (Outbox) and webhook
// deliveries (Deliveries), and inject faults per endpoint. ModuleRoot finds the checkout
// (the directory holding go.mod) for them and for the repository's tools.
package fatest
