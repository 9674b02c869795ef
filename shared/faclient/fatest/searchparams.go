package fatest

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"

	"github.com/changebank/anonuser/shared/faclient/fatest/esquery"
)

// parseSearchBody reads the POST form {"search":{…}}.
func parseSearchBody(body map[string]any, errs *apiErrors) searchCriteria {
	sf := fields{m: body, errs: errs}.sub("search")
	c := searchCriteria{set: map[string]bool{}}
	for _, k := range []string{"ids", "query", "queryString", "numberOfResults", "startRow", "sortFields", "accurateTotal", "nextResults"} {
		c.set[k] = sf.present(k)
	}
	c.ids = sf.strings("ids")
	c.query = sf.str("query")
	c.queryString = sf.str("queryString")
	c.nextResults = sf.str("nextResults")
	c.numberOfResults, _ = sf.integer("numberOfResults")
	c.startRow, _ = sf.integer("startRow")
	c.accurateTotal, _ = sf.boolean("accurateTotal")
	// expand sits beside search, not in it (SearchRequest.expand).
	top := fields{m: body, errs: errs}
	c.set["expand"] = body["expand"] != nil
	c.expand = top.strings("expand")
	if list, ok := sf.m["sortFields"].([]any); ok {
		for i, v := range list {
			m, ok := v.(map[string]any)
			if !ok {
				errs.field("search.sortFields", "[invalidJSON]", "Unable to parse JSON. The property [search.sortFields] was invalid.")
				continue
			}
			f := fields{m: m, prefix: fmt.Sprintf("search.sortFields[%d].", i), errs: errs}
			c.sortFields = append(c.sortFields, esquery.SortField{Name: f.str("name"), Order: f.str("order"), Missing: f.str("missing")})
		}
	} else if sf.present("sortFields") {
		errs.field("search.sortFields", "[invalidJSON]", "Unable to parse JSON. The property [search.sortFields] was invalid.")
	}
	return c
}

var sortParam = regexp.MustCompile(`^sortFields\[(\d+)\]\.(name|order|missing)$`)

// parseSearchQuery reads the GET form (?queryString=…&sortFields[0].name=…).
func parseSearchQuery(q url.Values, errs *apiErrors) searchCriteria {
	c := searchCriteria{set: map[string]bool{}}
	for _, k := range []string{"ids", "query", "queryString", "numberOfResults", "startRow", "accurateTotal", "nextResults"} {
		c.set[k] = q.Has(k)
	}
	c.ids = q["ids"]
	// expand repeated (?expand=registrations&expand=memberships); a lone empty value is
	// the empty list. How FusionAuth reads an Array parameter on GET is not documented.
	c.set["expand"] = q.Has("expand")
	for _, e := range q["expand"] {
		if e != "" {
			c.expand = append(c.expand, e)
		}
	}
	c.query = q.Get("query")
	c.queryString = q.Get("queryString")
	c.nextResults = q.Get("nextResults")
	intParam := func(name string) int64 {
		if !q.Has(name) {
			return 0
		}
		v, err := strconv.ParseInt(q.Get(name), 10, 64)
		if err != nil {
			errs.field(name, "[couldNotConvert]"+name, "Invalid "+name+" ["+q.Get(name)+"]. This must be an integer.")
		}
		return v
	}
	c.numberOfResults = intParam("numberOfResults")
	c.startRow = intParam("startRow")
	c.accurateTotal = q.Get("accurateTotal") == "true"
	byIndex := map[int]*esquery.SortField{}
	maxIndex := -1
	for k, vs := range q {
		m := sortParam.FindStringSubmatch(k)
		if m == nil {
			continue
		}
		i, _ := strconv.Atoi(m[1])
		if byIndex[i] == nil {
			byIndex[i] = &esquery.SortField{}
		}
		switch m[2] {
		case "name":
			byIndex[i].Name = vs[0]
		case "order":
			byIndex[i].Order = vs[0]
		case "missing":
			byIndex[i].Missing = vs[0]
		}
		maxIndex = max(maxIndex, i)
	}
	for i := 0; i <= maxIndex; i++ {
		if sf := byIndex[i]; sf != nil {
			c.sortFields = append(c.sortFields, *sf)
		}
	}
	c.set["sortFields"] = len(c.sortFields) > 0
	return c
}
