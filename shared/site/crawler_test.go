package site_test

import (
	"net/http"
	"strings"
	"testing"
)

// Real User-Agent strings, as each client sends them.
const (
	chrome126    = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
	chromeMac    = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	chromium     = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36"
	edge         = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.87"
	firefox      = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
	firefoxWin   = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
	safari       = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"
	safariIOS    = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
	chromeAndr   = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.122 Mobile Safari/537.36"
	headless     = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/138.0.0.0 Safari/537.36"
	googlebot    = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
	googlebotSm  = "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.126 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
	oldGooglebot = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Googlebot/2.1; http://www.google.com/bot.html) Chrome/41.0.2272.96 Safari/537.36"
)

var crawlers = map[string]string{
	"Googlebot":                     googlebot,
	"Googlebot smartphone":          googlebotSm,
	"Googlebot with an old Chrome":  oldGooglebot,
	"Bingbot":                       "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36",
	"DuckDuckBot":                   "DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)",
	"YandexBot":                     "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
	"Baiduspider":                   "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
	"Applebot":                      "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
	"AhrefsBot":                     "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
	"GPTBot":                        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
	"Yahoo Slurp":                   "Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)",
	"Facebook preview":              "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
	"Twitterbot":                    "Twitterbot/1.0",
	"LinkedInBot":                   "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
	"Slack preview":                 "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
	"Discordbot":                    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
	"TelegramBot":                   "TelegramBot (like TwitterBot)",
	"WhatsApp preview":              "WhatsApp/2.23.20.0",
	"Skype preview":                 "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5 skype-url-preview@microsoft.com",
	"Headless Chrome":               headless,
	"Lighthouse":                    "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse",
	"uptime check":                  "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
	"curl":                          "curl/8.5.0",
	"Wget":                          "Wget/1.21.4",
	"python-requests":               "python-requests/2.31.0",
	"Go-http-client":                "Go-http-client/1.1",
	"okhttp":                        "okhttp/4.12.0",
	"axios":                         "axios/1.6.7",
	"node-fetch":                    "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
	"a library with a browser mask": chrome126 + " axios/1.6.7",
	"an old browser":                "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/49.0.2623.112 Safari/537.36",
	"Internet Explorer":             "Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko",
}

// TestOnlyBrowserNavigationsCreateStubs: a visitor without a cookie gets a stub only
// for a current browser's navigation. Crawlers, preview fetchers, HTTP libraries, no
// User-Agent and a browser's non-navigation fetches get the page with no stub, no
// FusionAuth call and no cookie.
func TestOnlyBrowserNavigationsCreateStubs(t *testing.T) {
	nav := func(ua string) map[string]string { return map[string]string{"User-Agent": ua} }
	// Browsers that send no fetch metadata (Safari before 16.4) navigate without it.
	bare := func(ua string) map[string]string {
		return map[string]string{"User-Agent": ua, "Sec-Fetch-Mode": "", "Sec-Fetch-Dest": "", "Sec-Fetch-Site": "", "Sec-Fetch-User": ""}
	}
	type tc struct {
		header map[string]string
		stub   bool
	}
	cases := map[string]tc{
		"Chrome navigation":             {nav(chrome126), true},
		"Chrome on macOS":               {nav(chromeMac), true},
		"Chromium on Linux":             {nav(chromium), true},
		"Chrome on Android":             {nav(chromeAndr), true},
		"Edge navigation":               {nav(edge), true},
		"Firefox navigation":            {nav(firefox), true},
		"Firefox on Windows":            {nav(firefoxWin), true},
		"Safari navigation":             {nav(safari), true},
		"Safari on iPhone":              {nav(safariIOS), true},
		"Safari without fetch metadata": {bare(safari), true},
		"no User-Agent":                 {map[string]string{"User-Agent": ""}, false},
		"no User-Agent, no metadata":    {bare(""), false},
		// The least current version counts; one before it does not.
		"Chrome 100":                {nav(strings.Replace(chrome126, "Chrome/126.", "Chrome/100.", 1)), true},
		"Chrome 99":                 {nav(strings.Replace(chrome126, "Chrome/126.", "Chrome/99.", 1)), false},
		"Chrome, no-cors fetch":     {map[string]string{"User-Agent": chrome126, "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "video"}, false},
		"Chrome, script fetch":      {map[string]string{"User-Agent": chrome126, "Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"}, false},
		"Chrome, page in an iframe": {map[string]string{"User-Agent": chrome126, "Sec-Fetch-Dest": "iframe"}, false},
		"Chrome, image":             {map[string]string{"User-Agent": chrome126, "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image"}, false},
	}
	for name, ua := range crawlers {
		cases["crawler: "+name] = tc{bare(ua), false}
		cases["crawler with navigation metadata: "+name] = tc{nav(ua), false}
	}
	e := newEnv(t)
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			users := e.fa.UserCount()
			e.client.Counter().Reset()
			resp := e.visit(t, http.MethodGet, "", c.header)
			if resp.StatusCode != http.StatusOK || !strings.Contains(body(t, resp), "<video") {
				t.Errorf("status %d, want 200 with the video page", resp.StatusCode)
			}
			created := e.fa.UserCount() - users
			cookie := visitorCookie(resp)
			calls := e.client.Counter().Total()
			if c.stub {
				if created != 1 || cookie == nil || calls != 1 {
					t.Errorf("users created %d, cookie %v, FusionAuth calls %d; want exactly one stub, its cookie, one call", created, cookie != nil, calls)
				}
				return
			}
			if created != 0 || cookie != nil || calls != 0 {
				t.Errorf("users created %d, cookie %v, FusionAuth calls %v; want none of them", created, cookie != nil, e.client.Counter().Snapshot())
			}
		})
	}
}

// TestThousandAutomatedRequestsCreateNothing: 1,000 cookie-less requests from
// crawlers, preview fetchers and HTTP libraries create no stub and make no call.
func TestThousandAutomatedRequestsCreateNothing(t *testing.T) {
	e := newEnv(t)
	uas := make([]string, 0, len(crawlers))
	for _, ua := range crawlers {
		uas = append(uas, ua)
	}
	users := e.fa.UserCount()
	e.client.Counter().Reset()
	for i := range 1000 {
		if resp := e.visit(t, http.MethodGet, "", map[string]string{"User-Agent": uas[i%len(uas)]}); resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d: status %d", i, resp.StatusCode)
		}
	}
	if created, calls := e.fa.UserCount()-users, e.client.Counter().Total(); created != 0 || calls != 0 {
		t.Errorf("1,000 automated requests created %d stubs with %d FusionAuth calls, want 0 and 0", created, calls)
	}
}
