package lambdahttp

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// newRequest builds the server-side request net/http would have built for the event: URL from
// rawPath and rawQueryString, headers, one Cookie header, decoded body, Host, RemoteAddr and the
// invocation context (which carries the Lambda deadline).
func newRequest(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (*http.Request, error) {
	method := ev.RequestContext.HTTP.Method
	if !validMethod(method) {
		return nil, fmt.Errorf("invalid method %q", truncate(method))
	}

	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		decoded, err := base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			return nil, fmt.Errorf("decode base64 request body: %w", err)
		}
		body = decoded
	}

	header := make(http.Header, len(ev.Headers)+1)
	for name, value := range ev.Headers {
		key := http.CanonicalHeaderKey(name)
		header[key] = append(header[key], value)
	}
	if len(ev.Cookies) > 0 {
		// Payload 2.0 moves the Cookie header into the cookies array; rebuild it.
		header["Cookie"] = []string{strings.Join(ev.Cookies, "; ")}
	}
	// Like net/http's server: the Host header moves to Request.Host.
	host := header.Get("Host")
	delete(header, "Host")
	if host == "" {
		host = ev.RequestContext.DomainName
	}

	requestURI := escapePath(ev.RawPath)
	if ev.RawQueryString != "" {
		requestURI += "?" + ev.RawQueryString
	}
	u, err := url.ParseRequestURI(requestURI)
	if err != nil {
		return nil, fmt.Errorf("parse request path and query: %w", err)
	}
	u.Scheme = "https"
	u.Host = host

	proto := ev.RequestContext.HTTP.Protocol
	major, minor, ok := http.ParseHTTPVersion(proto)
	if !ok {
		proto, major, minor = "HTTP/1.1", 1, 1
	}

	var remoteAddr string
	if ev.RequestContext.HTTP.SourceIP != "" {
		// net/http's RemoteAddr is "host:port"; keep that shape so the same code can split it
		// behind Lambda and locally. The client's port is not in the event.
		remoteAddr = net.JoinHostPort(ev.RequestContext.HTTP.SourceIP, "0")
	}

	var rc io.ReadCloser = http.NoBody
	if len(body) > 0 {
		rc = io.NopCloser(bytes.NewReader(body))
	}

	req := &http.Request{
		Method:        method,
		URL:           u,
		Proto:         proto,
		ProtoMajor:    major,
		ProtoMinor:    minor,
		Header:        header,
		Body:          rc,
		ContentLength: int64(len(body)),
		Host:          host,
		RemoteAddr:    remoteAddr,
		RequestURI:    requestURI,
	}
	return req.WithContext(ctx), nil
}

// escapePath returns rawPath as a valid escaped request path.
//
// HTTP APIs deliver rawPath percent-decoded, Function URLs deliver it as the client sent it, and
// the event does not say which. So only bytes that can never appear literally in an escaped
// path are escaped: '?', '#', '%' not followed by two hex digits, space, control bytes and
// non-ASCII bytes. An escaped path passes through unchanged and a decoded one becomes valid
// (a decoded "?" no longer starts the query). A decoded path that literally contains an escape
// such as "%2F" is still read as an escape; the event leaves no way to tell.
func escapePath(rawPath string) string {
	if !strings.HasPrefix(rawPath, "/") {
		rawPath = "/" + rawPath
	}
	var b strings.Builder
	for i := 0; i < len(rawPath); i++ {
		c := rawPath[i]
		if !mustEscape(rawPath, i) {
			if b.Len() > 0 {
				b.WriteByte(c)
			}
			continue
		}
		if b.Len() == 0 {
			b.Grow(len(rawPath) + 16)
			b.WriteString(rawPath[:i])
		}
		const hex = "0123456789ABCDEF"
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0x0f])
	}
	if b.Len() == 0 {
		return rawPath
	}
	return b.String()
}

// mustEscape reports whether the byte at p[i] cannot appear literally in an escaped path.
func mustEscape(p string, i int) bool {
	switch c := p[i]; {
	case c == '%':
		return i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2])
	case c == '?', c == '#', c == ' ', c < 0x20, c >= 0x7f:
		return true
	default:
		return false
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// validMethod reports whether m is an HTTP token (RFC 9110 section 5.6.2), as net/http requires.
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}

// truncate bounds untrusted text before it goes into a log line.
func truncate(s string) string {
	const limit = 64
	if len(s) <= limit {
		return s
	}
	return s[:limit] + "…"
}
