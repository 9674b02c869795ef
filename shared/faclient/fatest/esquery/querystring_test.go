package esquery

import (
	"errors"
	"testing"
)

func parseQS(q string) (*Query, error) { return ParseQueryStringAt(q, testNow) }

func TestParseQueryString(t *testing.T) {
	all := ids("a1", "a2", "u1", "u2")
	runMatchCases(t, parseQS, []matchCase{
		{"star", `*`, all},
		{"star star", `*:*`, all},
		{"bare name token", `john`, ids("u1")},
		{"bare case-insensitive", `JOHN`, ids("u1")},
		{"bare last name", `roe`, ids("u2")},
		{"bare username case-insensitive", `johnnyd`, ids("u1")},
		{"bare email", `John.Doe@example.com`, ids("u1")},
		{"bare wildcard", `ja*`, ids("u2")},
		{"bare wildcard email", `*@example.org`, ids("u2")},
		{"bare phrase", `"john doe"`, ids("u1")},
		{"bare phrase order", `"doe john"`, ids()},
		{"bare no match", `smith`, ids()},
		{"operator-like term", `ANDROID`, ids()},
		{"email suffix", `email:*@example.com`, ids("u1")},
		{"email suffix case-insensitive", `email:*@EXAMPLE.COM`, ids("u1")},
		{"email exact", `email:JANE@example.org`, ids("u2")},
		{"bool field", `data.anonymousUser:true`, ids("a1", "a2")},
		{"bool field false", `data.anonymousUser:false`, ids("u1")},
		{"keyword field", `tenantId:t2`, ids("u2")},
		{"nested field flattened", `registrations.applicationId:app2`, ids("u1")},
		{"number field", `data.count:5`, ids("u1")},
		{"escaped space", `data.nickname:big\ johnny`, ids("u1")},
		{"field phrase", `fullName:"John Doe"`, ids("u1")},
		{"field phrase wrong order", `fullName:"doe john"`, ids()},
		{"field exists", `email:*`, ids("u1", "u2")},
		{"_exists_", `_exists_:lastLoginInstant`, ids("u1")},
		{"field group", `fullName:(john OR jane)`, ids("u1", "u2")},
		{"implicit OR", `id:a1 id:u2`, ids("a1", "u2")},
		{"OR", `id:a1 OR id:u2`, ids("a1", "u2")},
		{"||", `id:a1 || id:u2`, ids("a1", "u2")},
		{"AND", `tenantId:t1 AND active:true`, ids("a1", "a2", "u1")},
		{"&&", `data.anonymousUser:true && id:a2`, ids("a2")},
		{"AND NOT", `data.anonymousUser:true AND NOT _exists_:email`, ids("a1", "a2")},
		{"NOT alone", `NOT data.anonymousUser:true`, ids("u1", "u2")},
		{"bang", `!data.anonymousUser:true`, ids("u1", "u2")},
		{"minus excludes", `data.anonymousUser:true -id:a1`, ids("a2")},
		{"plus requires", `+data.anonymousUser:true id:u1`, ids("a1", "a2")},
		{"plus and plus", `+tenantId:t1 +id:u1`, ids("u1")},
		{"parentheses", `tenantId:t1 AND (id:a1 OR id:u1)`, ids("a1", "u1")},
		{"nested parentheses", `((id:a1) OR (id:u2 AND active:false))`, ids("a1", "u2")},
		{"range inclusive date math", `lastUpdateInstant:[now-30d TO now]`, ids("a2", "u1")},
		{"range open end", `insertInstant:[* TO now-45d]`, ids("u1", "u2")},
		{"range exclusive", `data.count:{4 TO 5}`, ids()},
		{"range mixed", `data.count:[5 TO 6}`, ids("u1")},
		{"range ISO", `birthDate:[1990-01-01 TO 1990-12-31]`, ids("u1")},
		{"comparison lt", `lastUpdateInstant:<now-30d`, ids("a1", "u2")},
		{"comparison gte", `data.count:>=5`, ids("u1")},
		{"comparison gt", `data.count:>5`, ids()},
		{"wildcard keyword", `id:a?`, ids("a1", "a2")},
		{"bare term in data", `johnny`, ids("u1")},
		{"bare wildcard in data", `johnn*`, ids("u1")},
		{"wildcard does not span analyzed tokens", `v-1*`, ids()},
		{"bare bool in data", `true`, ids("a1", "a2")},
		{"bare registrations not searched", `app2`, ids()},
		{"space after colon", `tenantId: t2`, ids("u2")},
		{"stars only", `***`, all},
		{"field stars is a pattern", `email:**`, ids("u1", "u2")},
		{"phrase on exact_lower", `email:"JANE@example.org"`, ids("u2")},
		{"or not, spelled with *:*", `id:a1 OR (*:* AND NOT data.anonymousUser:true)`, ids("a1", "u1", "u2")},
		{"OR NOT is AND NOT (Lucene)", `id:u2 OR id:a1 OR NOT data.anonymousUser:true`, ids("u2")},
		{"AND then OR (Lucene: the OR clause is optional)", `tenantId:t1 AND active:true OR id:u2`, ids("a1", "a2", "u1")},
		{"field group AND", `fullName:(john AND doe)`, ids("u1")},
		{"escaped colon", `data.signup:2025-01-02T03\:04\:05Z`, ids("u1")},
		{"range on data number open", `data.count:[5 TO *]`, ids("u1")},
		{"range both open is exists", `data.count:[* TO *]`, ids("u1")},
		{"range on keyword", `email:[j TO k]`, ids("u1", "u2")},
		{"range quoted bounds", `birthDate:["1990-01-01" TO "1990-12-31"]`, ids("u1")},
		{"_exists_ on data", `_exists_:data.visitorId`, ids("a1")},
		{"prune as query string", `data.anonymousUser:true AND NOT email:* AND lastUpdateInstant:<now-30d`, ids("a1")},
	})
}

func TestParseQueryStringErrors(t *testing.T) {
	tests := []struct {
		name        string
		query       string
		unsupported bool
	}{
		{"empty", ``, false},
		{"blank", `   `, false},
		{"leading AND", `AND john`, false},
		{"trailing AND", `john AND`, false},
		{"double operator", `john AND OR jane`, false},
		{"unclosed group", `(john`, false},
		{"unbalanced close", `john)`, false},
		{"empty group", `()`, false},
		{"boost", `john^2`, true},
		{"fuzzy", `john~`, true},
		{"proximity", `"john doe"~2`, true},
		{"regex", `/jo.n/`, true},
		{"field regex", `email:/jo.n/`, true},
		{"unterminated phrase", `"john`, false},
		{"missing value", `fullName:`, false},
		{"missing value before )", `(fullName:)`, false},
		{"bare range", `[a TO b]`, true},
		{"bare comparison", `>5`, true},
		{"all fields", `*:john`, true},
		{"wildcard field", `data.*:x`, true},
		{"unclosed range", `insertInstant:[now TO`, false},
		{"range without TO", `insertInstant:[now now]`, false},
		{"bad date bound", `insertInstant:[yesterday TO now]`, false},
		{"bad comparison bound", `insertInstant:<yesterday`, false},
		{"double colon", `a:b:c`, false},
		{"dangling backslash", `john\`, false},
		{"stray bang", `john !`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := ParseQueryStringAt(tt.query, testNow)
			if err == nil {
				t.Fatalf("ParseQueryStringAt(%q) = %v, nil; want an error", tt.query, q)
			}
			var ue *UnsupportedError
			if got := errors.As(err, &ue); got != tt.unsupported {
				t.Errorf("ParseQueryStringAt(%q) error %q: is *UnsupportedError = %v, want %v", tt.query, err, got, tt.unsupported)
			}
		})
	}
}

func TestPrepareQueryString(t *testing.T) {
	tests := map[string]string{
		"data.anonymousUser:true":         "data.anonymousUser:true",
		"email:*@example.com":             "email:*@example.com",
		"jane@example.com":                "email:jane@example.com",
		"dinesh":                          "*dinesh*",
		"*":                               "***",
		"john doe":                        "john doe",
		"a@b c":                           "a@b c",
		"NOT data.anonymousUser:true":     "NOT data.anonymousUser:true",
		"_exists_:data.emailPendingSince": "_exists_:data.emailPendingSince",
	}
	for in, want := range tests {
		if got := PrepareQueryString(in); got != want {
			t.Errorf("PrepareQueryString(%q) = %q, want %q", in, got, want)
		}
	}
}
