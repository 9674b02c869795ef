package lambdahttp

import (
	"bytes"
	"encoding/base64"
	"log/slog"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// responseWriter is a buffered http.ResponseWriter that behaves like net/http's where a handler
// can tell: the header is snapshotted by the first WriteHeader or Write, later WriteHeader calls
// are ignored, a missing Content-Type is sniffed from the body, bodies are refused for statuses
// that forbid them and discarded for HEAD requests.
type responseWriter struct {
	header      http.Header
	sent        http.Header
	status      int
	wroteHeader bool
	head        bool
	body        bytes.Buffer
}

var _ http.Flusher = (*responseWriter)(nil)

func newResponseWriter(method string) *responseWriter {
	return &responseWriter{header: make(http.Header), head: method == http.MethodHead}
}

// Header returns the header map that WriteHeader will send.
func (w *responseWriter) Header() http.Header { return w.header }

// WriteHeader records the status and snapshots the header. Informational (1xx) statuses cannot
// be sent through Lambda and are ignored, as net/http ignores them for the final response.
func (w *responseWriter) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	if code >= 100 && code <= 199 {
		return
	}
	if code < 100 || code > 999 {
		// net/http panics here; a panic would cost the execution environment.
		slog.Error("lambdahttp: handler wrote an invalid status code; answering 500", "code", code)
		code = http.StatusInternalServerError
	}
	w.wroteHeader = true
	w.status = code
	w.sent = w.header.Clone()
}

// Write buffers p, writing a 200 header first if none was written.
func (w *responseWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	if w.head {
		return len(p), nil
	}
	return w.body.Write(p)
}

// Flush writes the header if it was not written yet. The body is buffered until the handler
// returns: buffered Lambda responses cannot stream.
func (w *responseWriter) Flush() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
}

// result turns what the handler wrote into the Lambda response fields.
func (w *responseWriter) result() events.APIGatewayV2HTTPResponse {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	h := w.sent
	body := w.body.Bytes()
	if _, ok := h["Content-Type"]; !ok && len(body) > 0 && h.Get("Content-Encoding") == "" {
		// net/http sniffs the first bytes when the handler set no Content-Type (and did not
		// suppress it with a nil value); do the same so Lambda and the local server agree.
		h.Set("Content-Type", http.DetectContentType(body))
	}

	res := events.APIGatewayV2HTTPResponse{StatusCode: w.status, Headers: make(map[string]string, len(h))}
	// Sorted so that keys differing only in case (set by assigning to the map directly) merge
	// in a stable order.
	for _, name := range slices.Sorted(maps.Keys(h)) {
		values := h[name]
		if len(values) == 0 || strings.HasPrefix(name, http.TrailerPrefix) {
			continue
		}
		key := http.CanonicalHeaderKey(name)
		if key == "Set-Cookie" {
			// Every Set-Cookie goes to the cookies field: comma-joining them would corrupt
			// cookies whose Expires attribute contains a comma.
			res.Cookies = append(res.Cookies, values...)
			continue
		}
		joined := strings.Join(values, ", ")
		if prev, ok := res.Headers[key]; ok {
			joined = prev + ", " + joined
		}
		res.Headers[key] = joined
	}

	if len(body) == 0 {
		return res
	}
	if utf8.Valid(body) && textual(h.Get("Content-Type")) && !encoded(h.Get("Content-Encoding")) {
		res.Body = string(body)
		return res
	}
	res.Body = base64.StdEncoding.EncodeToString(body)
	res.IsBase64Encoded = true
	return res
}

// textual reports whether a body of this media type is text, so it can travel as a JSON string
// instead of base64.
func textual(contentType string) bool {
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	if strings.HasPrefix(mediaType, "text/") ||
		strings.HasSuffix(mediaType, "+json") || strings.HasSuffix(mediaType, "+xml") {
		return true
	}
	switch mediaType {
	case "application/json", "application/xml", "application/javascript", "application/ecmascript",
		"application/x-www-form-urlencoded", "application/jwt":
		return true
	}
	return false
}

// encoded reports whether a Content-Encoding makes the body bytes something other than the text
// its Content-Type names.
func encoded(contentEncoding string) bool {
	return contentEncoding != "" && !strings.EqualFold(contentEncoding, "identity")
}

// bodyAllowed reports whether a response with this status may have a body (RFC 9110).
func bodyAllowed(status int) bool {
	switch {
	case status >= 100 && status <= 199:
		return false
	case status == http.StatusNoContent, status == http.StatusNotModified:
		return false
	}
	return true
}
