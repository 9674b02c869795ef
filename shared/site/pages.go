package site

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/changebank/anonuser/shared/anon"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages are parsed once per process (cold start), from files embedded in the binary.
var pages = map[string]*template.Template{
	"video":    mustPage("video"),
	"register": mustPage("register"),
	"error":    mustPage("error"),
	"signin":   mustPage("signin"),
	"me":       mustPage("me"),
}

// funcs are what templates may call: the limits the pages state come from the domain,
// not from a number typed into the HTML.
var funcs = template.FuncMap{
	"maxEmailLen":    func() int { return anon.MaxEmailLen },
	"progressScript": func() template.HTML { return progressScript },
}

func mustPage(name string) *template.Template {
	return template.Must(template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
}

// contentSecurityPolicy lets a page load only the site's own resources and run only
// the video page's progress script (by its hash).
var contentSecurityPolicy = policyAllowing(progressScriptHash)

func policyAllowing(script string) string {
	return "default-src 'self'; img-src 'self' data:; media-src https: 'self'; style-src 'unsafe-inline'; script-src " +
		script + "; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
}

// render writes a full HTML page. Pages may carry or clear the visitor cookie, so no
// cache may keep them.
func render(w http.ResponseWriter, status int, page string, data any, log *slog.Logger) {
	var buf bytes.Buffer
	if err := pages[page].ExecuteTemplate(&buf, "layout", data); err != nil {
		log.Error("render page", "page", page, "error", err)
		http.Error(w, "Something went wrong on our side. Please try again.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorPage is what a visitor sees when something fails: a friendly page with the
// right status and never an internal detail.
type errorPage struct {
	Title, Heading, Message string
	Viewer                  viewer
}

// allowMethods reports whether r's method is one of allowed; any other is answered 405
// with an Allow header listing them.
func allowMethods(w http.ResponseWriter, r *http.Request, log *slog.Logger, allowed ...string) bool {
	if slices.Contains(allowed, r.Method) {
		return true
	}
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	renderError(w, errMethod, log)
	return false
}

// renderError writes the error page for err, with the status statusOf gives it.
func renderError(w http.ResponseWriter, err error, log *slog.Logger) {
	status := statusOf(err)
	p := errorPage{Title: "Something went wrong", Heading: "Something went wrong on our side", Message: "Please try again in a moment. Nothing you did here was lost."}
	switch status {
	case http.StatusBadRequest:
		p = errorPage{Title: "Bad request", Heading: "We could not read that request", Message: "Please go back and try again."}
	case http.StatusForbidden:
		p = errorPage{Title: "Not allowed", Heading: "That request was not allowed", Message: "Forms on ChangeBank can only be sent from ChangeBank's own pages."}
	case http.StatusNotFound:
		p = errorPage{Title: "Not found", Heading: "This page does not exist", Message: "The link may be old or mistyped."}
	case http.StatusMethodNotAllowed:
		p = errorPage{Title: "Not allowed", Heading: "That method is not supported here", Message: "Please use the links on the page."}
	case http.StatusTooManyRequests:
		p = errorPage{Title: "Too many requests", Heading: "Too many requests from your network", Message: "Please wait a while and try again. Nothing you did here was lost."}
	case http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusGatewayTimeout:
		p = errorPage{Title: "Temporarily unavailable", Heading: "We are briefly unavailable", Message: "Please try again in a moment. Nothing you did here was lost."}
	}
	render(w, status, "error", p, log)
}

// watches is a watch count as the pages say it: the number and "time" or "times".
// The word is worked out here, not with eq in the templates, which would call through
// reflection on every page.
type watches struct {
	N    int
	Word string
	Time string // the watch time, "4 min 12 s"; empty when none was credited
}

func watchesOf(n, seconds int) watches {
	w := watches{N: n, Word: "times", Time: duration(seconds)}
	if n == 1 {
		w.Word = "time"
	}
	return w
}

// duration says seconds as the pages do: "42 s", "4 min 12 s", "2 h 5 min"; "" for none.
func duration(seconds int) string {
	if seconds <= 0 {
		return ""
	}
	if seconds < 60 {
		return fmt.Sprintf("%d s", seconds)
	}
	if seconds < 3600 {
		return fmt.Sprintf("%d min %d s", seconds/60, seconds%60)
	}
	return fmt.Sprintf("%d h %d min", seconds/3600, seconds%3600/60)
}
