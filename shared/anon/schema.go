package anon

import (
	"maps"
	"slices"
)

// The profile's keys in user.data, declared once: each key, what it holds, and how it
// combines when a stub merges into an account at sign-in. Visits and progress write
// them, the merge applies their rules (MergeData), prune's summary and the visitor's
// export read them. Adding a key to the profile is one line of Schema.

// Data keys of the watch history.
const (
	DataWatchSeconds = "watchSeconds" // seconds of the video credited to the profile (RecordProgress)
	DataFirstVisit   = "firstVisitAt" // epoch ms of the profile's first visit
	DataLastVisit    = "lastVisitAt"  // epoch ms of its latest visit: the start of the visit progress is credited to
	// DataVisitSeconds is the seconds credited since the latest visit began: a visit is
	// credited at most the video's length, and at most the time since it began.
	DataVisitSeconds = "visitSeconds"
)

// Kind is the JSON type of a profile key.
type Kind int

const (
	Number  Kind = iota // a count
	Instant             // epoch milliseconds
	Flag                // true or false
	Text                // a string
	Texts               // an array of strings
	Times               // an array of epoch milliseconds
)

// Rule is how a key of a stub's profile combines with the account's at sign-in.
type Rule int

const (
	// Own: the key belongs to the user it is on (a stub's markers, an account's own
	// records): the account keeps its value, the stub's is dropped.
	Own      Rule = iota
	Sum           // the account's plus the stub's
	Max           // the larger
	Min           // the smaller
	Earliest      // the earlier instant
	Latest        // the later instant
	Union         // every string of both, the account's first, each once
)

// Key declares one key of user.data.
type Key struct {
	Name  string
	Kind  Kind
	Merge Rule
	// About says in plain words what the key records, for the visitor's own page;
	// empty for the site's bookkeeping, which the page does not list.
	About string
}

// Schema is every key the product keeps in user.data.
var Schema = []Key{
	{DataWatchCount, Number, Sum, "How many times you opened the video page"},
	{DataWatchSeconds, Number, Sum, "How long you watched the video"},
	{DataFirstVisit, Instant, Earliest, "Your first visit"},
	{DataLastVisit, Instant, Latest, "Your latest visit"},
	{DataVisitSeconds, Number, Own, ""},
	{DataAnonymous, Flag, Own, "Whether this is an anonymous profile"},
	{DataEmailRequested, Text, Own, "The email address you asked to use"},
	{DataEmailPending, Instant, Own, "When you first asked for an account"},
	{DataEmailSends, Times, Own, ""},
	{DataEmailLastSentTo, Text, Own, ""},
	{DataEmailReleasedAt, Instant, Own, ""},
	{DataAddressPassword, Instant, Own, ""},
	{DataConvertedAt, Instant, Own, "When this profile became an account"},
	{DataMergedStubs, Texts, Own, ""},
}

// SchemaKey returns the declaration of the key name.
func SchemaKey(name string) (Key, bool) {
	i := slices.IndexFunc(Schema, func(k Key) bool { return k.Name == name })
	if i < 0 {
		return Key{}, false
	}
	return Schema[i], true
}

// MergeData returns the account's data with the stub's merged in by each key's rule
// (Schema). Keys the schema does not declare, and Own keys, stay the account's. The
// account's map is not modified.
func MergeData(account, stub map[string]any) map[string]any {
	out := maps.Clone(account)
	if out == nil {
		out = map[string]any{}
	}
	for _, k := range Schema {
		s, ok := stub[k.Name]
		if !ok || k.Merge == Own {
			continue
		}
		a, had := out[k.Name]
		if !had {
			out[k.Name] = s
			continue
		}
		out[k.Name] = combine(k.Merge, a, s)
	}
	return out
}

// combine applies rule to the account's value a and the stub's s.
func combine(rule Rule, a, s any) any {
	switch rule {
	case Sum:
		return numberOf(a) + numberOf(s)
	case Max, Latest:
		return max(numberOf(a), numberOf(s))
	case Min, Earliest:
		return min(numberOf(a), numberOf(s))
	case Union:
		out := stringsOf(a)
		for _, v := range stringsOf(s) {
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
		return out
	}
	return a
}

// numberOf reads a JSON number as an int64 (counts and epoch ms); anything else is 0.
func numberOf(v any) int64 {
	switch n := v.(type) {
	case float64:
		return int64(n)
	case int:
		return int64(n)
	case int64:
		return n
	}
	return 0
}

// Totals adds up, over profiles' data, every key a visitor accrues (a Number summed at
// the merge): what prune's summary reports a run dropped with the stubs it deleted.
// Each such key of Schema is in the result, 0 when no profile holds it.
func Totals(data ...map[string]any) map[string]int64 {
	out := map[string]int64{}
	for _, k := range Schema {
		if k.Kind != Number || k.Merge != Sum {
			continue
		}
		var sum int64
		for _, d := range data {
			sum += numberOf(d[k.Name])
		}
		out[k.Name] = sum
	}
	return out
}
