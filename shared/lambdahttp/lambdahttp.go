package lambdahttp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/aws/aws-lambda-go/events"
)

// HTTPAPI adapts an API Gateway HTTP API (payload format 2.0) event to h.
//
// The returned function is meant for lambda.Start. It never returns a non-nil error: request
// problems become 4xx responses and a panicking handler becomes a 500 response, so API Gateway
// never answers a bare 502 for something the function could have described. HTTPAPI panics if h
// is nil, at wiring time, like http.Handle.
func HTTPAPI(h http.Handler) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	mustHandler(h)
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return serve(ctx, h, ev), nil
	}
}

// FunctionURL adapts a Lambda Function URL (buffered invoke mode) event to h.
//
// The returned function is meant for lambda.Start. It never returns a non-nil error (see
// HTTPAPI). FunctionURL panics if h is nil, at wiring time, like http.Handle.
func FunctionURL(h http.Handler) func(context.Context, events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error) {
	mustHandler(h)
	return func(ctx context.Context, ev events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error) {
		res := serve(ctx, h, fromFunctionURL(ev))
		return events.LambdaFunctionURLResponse{
			StatusCode:      res.StatusCode,
			Headers:         res.Headers,
			Body:            res.Body,
			IsBase64Encoded: res.IsBase64Encoded,
			Cookies:         res.Cookies,
		}, nil
	}
}

func mustHandler(h http.Handler) {
	if h == nil {
		panic("lambdahttp: nil handler")
	}
}

// fromFunctionURL returns a Function URL event as the HTTP API event it matches field for
// field: both are payload format 2.0 under different Go types, and the adapter reads only
// the HTTP API's.
func fromFunctionURL(ev events.LambdaFunctionURLRequest) events.APIGatewayV2HTTPRequest {
	return events.APIGatewayV2HTTPRequest{
		Version:               ev.Version,
		RawPath:               ev.RawPath,
		RawQueryString:        ev.RawQueryString,
		Cookies:               ev.Cookies,
		Headers:               ev.Headers,
		QueryStringParameters: ev.QueryStringParameters,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			DomainName: ev.RequestContext.DomainName,
			HTTP:       events.APIGatewayV2HTTPRequestContextHTTPDescription(ev.RequestContext.HTTP),
		},
		Body:            ev.Body,
		IsBase64Encoded: ev.IsBase64Encoded,
	}
}

// serve runs h for ev and always produces a response.
func serve(ctx context.Context, h http.Handler, ev events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	req, err := newRequest(ctx, ev)
	if err != nil {
		slog.WarnContext(ctx, "lambdahttp: rejecting malformed request event", "error", err)
		return errorResponse(ev.RequestContext.HTTP.Method, http.StatusBadRequest)
	}
	return run(h, req)
}

// run calls h and turns a panic into a 500 response. net/http's server does the same per
// connection; in Lambda an unrecovered panic would end the execution environment.
func run(h http.Handler, req *http.Request) (res events.APIGatewayV2HTTPResponse) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		ctx := req.Context()
		if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
			// net/http treats ErrAbortHandler as a deliberate abort and does not log a stack.
			slog.WarnContext(ctx, "lambdahttp: handler aborted", "method", req.Method, "path", req.URL.Path)
		} else {
			slog.ErrorContext(ctx, "lambdahttp: handler panicked",
				"method", req.Method, "path", req.URL.Path,
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		}
		res = errorResponse(req.Method, http.StatusInternalServerError)
	}()
	w := newResponseWriter(req.Method)
	h.ServeHTTP(w, req)
	return w.result()
}

// errorResponse is the response http.Error writes for code, without details.
func errorResponse(method string, code int) events.APIGatewayV2HTTPResponse {
	w := newResponseWriter(method)
	http.Error(w, http.StatusText(code), code)
	return w.result()
}
