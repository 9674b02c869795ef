// Package lambdahttp runs a plain net/http handler behind AWS Lambda.
//
// The HTTP behaviour of every function lives in ordinary http.Handlers that the local server
// serves too. This package only turns an API Gateway HTTP API (payload format 2.0) event or a
// Lambda Function URL event into an *http.Request, runs the handler against a buffered
// http.ResponseWriter and turns what it wrote back into the event's response type.
//
// It exists because aws-lambda-go's lambdaurl.Wrap works only for Function URLs with
// InvokeMode RESPONSE_STREAM; HTTP APIs and buffered Function URLs need a buffered adapter.
//
// Things the events do differently from a socket, and what the adapter does about them:
//
//   - The query is taken from rawQueryString. queryStringParameters joins repeated keys with
//     commas, which loses information.
//   - Request cookies arrive in a separate cookies array; they are joined into one Cookie
//     header. Response Set-Cookie headers must go into the response's cookies field (API Gateway
//     and Function URLs would otherwise fold them into one header), so all of them are moved
//     there.
//   - HTTP APIs deliver rawPath percent-decoded while Function URLs deliver it as sent. The
//     adapter escapes only bytes that can never appear literally in an escaped path, so both
//     forms become a valid request path.
//   - A request problem (malformed base64 body, unusable method or path) becomes a 400 response
//     and a handler panic becomes a 500 response. The adapters never return a Go error: Lambda
//     would turn it into a bare 502 and a panic would end the execution environment and its
//     warm caches.
package lambdahttp
