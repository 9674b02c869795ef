package fatest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/changebank/anonuser/shared/faclient/fatest/esquery"
)

// cursor is the decoded nextResults token: the query, its sort, and the sort-relevant
// values of the last hit returned (an Elasticsearch search_after, in effect).
type cursor struct {
	Query         string              `json:"q,omitempty"`
	QueryString   string              `json:"qs,omitempty"` // as the request gave it, before PrepareQueryString
	SortFields    []esquery.SortField `json:"sf,omitempty"`
	AccurateTotal bool                `json:"at,omitempty"`
	LastValues    map[string]any      `json:"ls,omitempty"`
	LastID        string              `json:"id"`
	LastSeq       int64               `json:"sq,omitempty"` // without sortFields: insertion order
	End           bool                `json:"e,omitempty"`  // the previous page was empty: nothing follows
}

// cursorMarker marks the synthetic document that stands for the last hit while resuming.
const cursorMarker = "\x00cursor"

// sortValues copies the top-level fields a sort reads from doc (login reads email and
// username), so a synthetic document can stand for doc when resuming after it.
func sortValues(doc map[string]any, sortFields []esquery.SortField) map[string]any {
	out := map[string]any{}
	for _, sf := range sortFields {
		keys := []string{strings.SplitN(sf.Name, ".", 2)[0]}
		if sf.Name == "login" {
			keys = []string{"email", "username"}
		}
		for _, k := range keys {
			if v, ok := doc[k]; ok {
				out[k] = cloneValue(v)
			}
		}
	}
	return out
}

func encodeCursor(c cursor) (string, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encode nextResults: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func decodeCursor(token string) (*cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(token, "="))
	if err != nil {
		return nil, fmt.Errorf("decode nextResults: %w", err)
	}
	v, err := parseJSON(b)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("decode nextResults: not an object")
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("decode nextResults: %w", err)
	}
	// Keep normalised numbers (int64) for the sort values rather than json's float64.
	if ls, ok := m["ls"].(map[string]any); ok {
		c.LastValues = ls
	}
	if c.LastID == "" && !c.End {
		return nil, errors.New("decode nextResults: no last id")
	}
	return &c, nil
}
