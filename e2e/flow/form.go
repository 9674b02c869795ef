package flow

import (
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
)

// Form is an HTML form as a browser would submit it: its absolute action, its method
// and the values of its inputs (hidden ones included).
type Form struct {
	Action string
	Method string
	Values url.Values
}

var (
	formTag  = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	inputTag = regexp.MustCompile(`(?is)<input\b([^>]*)>`)
	attr     = regexp.MustCompile(`(?s)([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>` + "`" + `]+)))?`)
)

// FindForm returns the first form on the page (at base) that has an input named field.
// It reads what FusionAuth's hosted pages and the site's pages use (quoted or bare
// attributes, hidden inputs, checkboxes); it is not a general HTML parser.
func FindForm(page, base, field string) (Form, error) {
	baseURL, err := url.Parse(base)
	if err != nil {
		return Form{}, fmt.Errorf("page URL %q: %w", base, err)
	}
	for _, m := range formTag.FindAllStringSubmatch(page, -1) {
		fa := attrs(m[1])
		f := Form{Method: strings.ToUpper(fa["method"]), Values: url.Values{}}
		if f.Method == "" {
			f.Method = "GET"
		}
		action, err := baseURL.Parse(fa["action"]) // "" is the page itself
		if err != nil {
			return Form{}, fmt.Errorf("form action %q: %w", fa["action"], err)
		}
		f.Action = action.String()
		has := false
		for _, in := range inputTag.FindAllStringSubmatch(m[2], -1) {
			ia := attrs(in[1])
			name := ia["name"]
			if name == "" {
				continue
			}
			has = has || name == field
			switch strings.ToLower(ia["type"]) {
			case "submit", "button", "image", "reset", "file":
				continue
			case "checkbox", "radio":
				if _, checked := ia["checked"]; !checked {
					continue
				}
				if _, ok := ia["value"]; !ok {
					ia["value"] = "on"
				}
			}
			f.Values.Add(name, ia["value"])
		}
		if has {
			return f, nil
		}
	}
	return Form{}, fmt.Errorf("no form with an input named %q on the page", field)
}

// attrs parses a tag's attributes; names are lower-cased, values unescaped, and an
// attribute without a value maps to "".
func attrs(s string) map[string]string {
	out := map[string]string{}
	for _, m := range attr.FindAllStringSubmatch(s, -1) {
		name := strings.ToLower(m[1])
		if _, dup := out[name]; dup {
			continue // the first one wins, as in browsers
		}
		out[name] = html.UnescapeString(m[2] + m[3] + m[4])
	}
	return out
}
