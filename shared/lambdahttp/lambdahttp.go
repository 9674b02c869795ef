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
		res := serve(ctx, h, event{
			method:     ev.RequestContext.HTTP.Method,
			rawPath:    ev.RawPath,
			rawQuery:   ev.RawQueryString,
			protocol:   ev.RequestContext.HTTP.Protocol,
			domainName: ev.RequestContext.DomainName,
			sourceIP:   ev.RequestContext.HTTP.SourceIP,
			cookies:    ev.Cookies,
			headers:    ev.Headers,
			body:       ev.Body,
			base64:     ev.IsBase64Encoded,
		})
		return events.APIGatewayV2HTTPResponse{
			StatusCode:      res.status,
			Headers:         res.headers,
			Body:            res.body,
			IsBase64Encoded: res.base64,
			Cookies:         res.cookies,
		}, nil
	}
}

// FunctionURL adapts a Lambda Function URL (buffered invoke mode) event to h.
//
// The returned function is meant for lambda.Start. It never returns a non-nil error (see
// HTTPAPI). FunctionURL panics if h is nil, at wiring time, like http.Handle.
func FunctionURL(h http.Handler) func(context.Context, events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error) {
	mustHandler(h)
	return func(ctx context.Context, ev events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error) {
		res := serve(ctx, h, event{
			method:     ev.RequestContext.HTTP.Method,
			rawPath:    ev.RawPath,
			rawQuery:   ev.RawQueryString,
			protocol:   ev.RequestContext.HTTP.Protocol,
			domainName: ev.RequestContext.DomainName,
			sourceIP:   ev.RequestContext.HTTP.SourceIP,
			cookies:    ev.Cookies,
			headers:    ev.Headers,
			body:       ev.Body,
			base64:     ev.IsBase64Encoded,
		})
		return events.LambdaFunctionURLResponse{
			StatusCode:      res.status,
			Headers:         res.headers,
			Body:            res.body,
			IsBase64Encoded: res.base64,
			Cookies:         res.cookies,
		}, nil
	}
}

func mustHandler(h http.Handler) {
	if h == nil {
		panic("lambdahttp: nil handler")
	}
}

// event is what the adapter reads from either event type: an HTTP API payload 2.0 event and a
// Function URL event carry the same fields under different Go types.
type event struct {
	method     string
	rawPath    string
	rawQuery   string
	protocol   string
	domainName string
	sourceIP   string
	cookies    []string
	headers    map[string]string
	body       string
	base64     bool
}

// response is what the adapter writes into either response type.
type response struct {
	status  int
	headers map[string]string
	cookies []string
	body    string
	base64  bool
}

// serve runs h for ev and always produces a response.
func serve(ctx context.Context, h http.Handler, ev event) response {
	req, err := newRequest(ctx, ev)
	if err != nil {
		slog.WarnContext(ctx, "lambdahttp: rejecting malformed request event", "error", err)
		return errorResponse(ev.method, http.StatusBadRequest)
	}
	return run(h, req)
}

// run calls h and turns a panic into a 500 response. net/http's server does the same per
// connection; in Lambda an unrecovered panic would end the execution environment.
func run(h http.Handler, req *http.Request) (res response) {
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
func errorResponse(method string, code int) response {
	w := newResponseWriter(method)
	http.Error(w, http.StatusText(code), code)
	return w.result()
}
