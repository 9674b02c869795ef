// Package faclient is a small typed client for the FusionAuth HTTP API: exactly the
// endpoints this project calls, with the method names of the official Go client
// (github.com/FusionAuth/go-client, not served by the module proxy here), so that
// swapping the official client in later touches only the adapter in package anon.
//
// Differences from the official client, on purpose:
//   - every method takes a context.Context and returns (result, error); a FusionAuth
//     error answer is an *Error carrying the status and FusionAuth's Errors object;
//   - the API key comes from a KeySource, so a rotated key is picked up after a 401;
//   - safe calls (GET) are retried a bounded number of times on 5xx and transport
//     errors; writes are never retried blindly (only after a 401 with a refreshed key,
//     which FusionAuth answers before acting);
//   - every request is counted per endpoint, so tests and metrics can tell how many
//     FusionAuth round trips a request cost.
package faclient
