package site

import (
	"net/http"
	"slices"
	"strings"

	"github.com/mileusna/useragent"
)

// Every stub is a FusionAuth monthly active user, so a visitor without a cookie gets
// one only for a browser's own navigation. Everything else (crawlers, link-preview
// fetchers, uptime checks, HTTP libraries, requests without a User-Agent) gets the
// page and nothing is created. A client that lies about being a browser still gets
// through; this keeps out the honest majority of automated traffic, which is most of
// it, at no cost to people.

// browsers are the User-Agents that may start a profile (mileusna/useragent names),
// with the least major version that counts as current: crawlers often present an old
// browser version, people rarely run one. 0: any version (in-app browsers report the
// app's version).
var browsers = map[string]int{
	useragent.Chrome:         100, // April 2022
	useragent.Edge:           100,
	useragent.Firefox:        100, // May 2022
	useragent.Safari:         15,  // 2021
	useragent.Opera:          80,
	useragent.SamsungBrowser: 15,
	useragent.Vivaldi:        5,
	useragent.FacebookApp:    0,
	useragent.InstagramApp:   0,
}

// automatedMarks are lower-cased pieces of a User-Agent that only automated clients
// send: HTTP libraries and self-declared crawlers or preview fetchers the parser does
// not name (it already flags Googlebot, Bingbot, Applebot, headless Chrome and any
// User-Agent carrying a URL).
var automatedMarks = []string{
	"curl", "wget", "python-requests", "python-urllib", "aiohttp", "go-http-client", "okhttp", "axios",
	"node-fetch", "undici", "java/", "apache-httpclient", "libwww-perl", "httpie", "postman",
	"bot/", "bot;", "bot-", "bot (", "crawl", "spider", "slurp", "headless", "preview", "lighthouse",
	"externalhit", "whatsapp", "embedly",
}

// isBrowserNavigation reports a request a person's browser made by navigating to the
// page: a current browser's User-Agent and, when the browser sends fetch metadata
// (every current one but older Safari does), Sec-Fetch-Mode "navigate" and
// Sec-Fetch-Dest "document".
func isBrowserNavigation(r *http.Request) bool {
	if mode := r.Header.Get("Sec-Fetch-Mode"); mode != "" && mode != "navigate" {
		return false
	}
	if dest := r.Header.Get("Sec-Fetch-Dest"); dest != "" && dest != "document" {
		return false
	}
	raw := r.Header.Get("User-Agent")
	lower := strings.ToLower(raw)
	if raw == "" || strings.HasSuffix(lower, "bot") || slices.ContainsFunc(automatedMarks, func(m string) bool { return strings.Contains(lower, m) }) {
		return false
	}
	ua := useragent.Parse(raw)
	least, known := browsers[ua.Name]
	return known && !ua.Bot && ua.VersionNo.Major >= least
}
