package esquery

import "strings"

// PrepareQueryString applies the pre-processing FusionAuth documents for a queryString before
// it passes it to Elasticsearch ("Searching Users With Elasticsearch", QueryString Searches):
// a query holding ':' is passed as is; otherwise one without spaces that holds '@' is taken
// for an email address and prefixed with "email:"; otherwise one without spaces gets the
// wildcard '*' prepended and appended. A query with spaces and no ':' is passed as is.
//
// So `data.anonymousUser:true` is unchanged, `jane@example.com` becomes
// `email:jane@example.com` and `dinesh` becomes `*dinesh*`; `*` becomes `***`, which matches
// every user as `*` does.
func PrepareQueryString(s string) string {
	switch {
	case strings.Contains(s, ":"), strings.ContainsAny(s, " \t\r\n"):
		return s
	case strings.Contains(s, "@"):
		return "email:" + s
	}
	return "*" + s + "*"
}
