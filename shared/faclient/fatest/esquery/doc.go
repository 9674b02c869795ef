// Package esquery evaluates the subset of Elasticsearch queries that FusionAuth's user search
// accepts, against FusionAuth user JSON held in memory.
//
// It backs the in-memory FusionAuth-compatible server in package fatest: POST and GET
// /api/user/search and DELETE /api/user/bulk pass their `query` (a JSON string holding an
// Elasticsearch query, without the {"query":…} wrapper) to [ParseAt], and their `queryString`
// (Lucene query-string syntax, after FusionAuth's [PrepareQueryString]) to
// [ParseQueryStringAt]. Both compile the query once into a tree of matchers; [Query.Match] then
// tests one user document (the user object as JSON-decoded into map[string]any). [Sort] orders
// search results the way FusionAuth's sortFields do.
//
// The Elasticsearch clauses are: bool (must, filter, should, must_not, minimum_should_match),
// constant_score (filter), nested (path registrations or memberships), match_all, match_none,
// ids, term, terms, range (gt, gte, lt, lte), exists, match (operator), match_phrase, wildcard and
// prefix (case_insensitive). The query-string syntax is listed at [ParseQueryString]. Anything
// else (another clause such as query_string, fuzzy or regexp, an option that changes what
// matches, a malformed or wrongly typed value, the {"query":…} wrapper) is an error, usually an
// [*UnsupportedError]; a query is never silently widened to match everything.
//
// # Field mapping
//
// Matching follows the Elasticsearch mapping of FusionAuth's fusionauth_user index:
//
//   - keyword (exact, case-sensitive): id (also _id), tenantId, connectorId, registrations.applicationId,
//     registrations.id, registrations.roles, memberships.groupId, memberships.id, memberships.userId.
//   - email, username, parentEmail, login, registrations.username: FusionAuth indexes these with an
//     "exact_lower" analyzer, i.e. the whole value lower-cased as a single token. A term query therefore
//     matches only when its value equals the lower-cased stored value (a mixed-case term never
//     matches, as in FusionAuth); match, wildcard, prefix and query-string queries are
//     case-insensitive. login is not part of the user JSON: it is evaluated as email and username.
//   - text (standard analyzer: lower-cased word tokens): firstName, middleName, lastName, fullName,
//     mobilePhone, phoneNumber, preferredLanguages, timezone, breachedPasswordStatus. A term query
//     must name one lower-case token; a `<field>.keyword` path compares the whole value exactly.
//   - date (epoch milliseconds or ISO-8601): birthDate, insertInstant, lastUpdateInstant,
//     lastLoginInstant, verifiedInstant and the insertInstant/lastLoginInstant/lastUpdateInstant of
//     registrations and memberships. Range bounds accept epoch-ms numbers, numeric strings, ISO-8601
//     strings and date math (now, now-30d, now/d, 2024-01-01||+1M).
//   - everything else, notably data.*, is typed from the stored value the way Elasticsearch's dynamic
//     mapping does: booleans and numbers compare as such (a boolean matches "true"/"false", a number
//     matches a numeric string), strings that look like ISO-8601 dates compare as dates, and other
//     strings are text (analyzed; use data.x.keyword for an exact whole-value comparison). Note that
//     a number in data (e.g. epoch ms) is a long for Elasticsearch, so date math such as "now-30d"
//     never matches it here and is rejected by real Elasticsearch: compute the bound in Go instead.
//
// registrations and memberships are nested with include_in_parent, so their fields can be queried
// both inside a nested query (one element must match the whole inner query) and directly (then
// values of all elements are pooled). Arrays of scalars match when any element matches; absent
// fields, null and empty arrays do not exist.
//
// A compiled [Query] is immutable and safe for concurrent use.
package esquery
