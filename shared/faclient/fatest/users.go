package fatest

import (
	"bytes"
	"fmt"
	mathrand "math/rand/v2"
	"net/http"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// connectorID is the id of FusionAuth's built-in user store (§2).
const connectorID = "e3306678-a53a-4964-9040-1c96f36dda72"

// userRecord is a stored user: the User object exactly as the API returns it (never
// with password or salt), plus its password.
type userRecord struct {
	doc      map[string]any
	password string
	seq      int64 // insertion order: the default order of search results
	removed  bool
}

func (u *userRecord) id() string       { return asString(u.doc["id"]) }
func (u *userRecord) tenantID() string { return asString(u.doc["tenantId"]) }
func (u *userRecord) email() string    { return asString(u.doc["email"]) }
func (u *userRecord) username() string { return asString(u.doc["username"]) }
func (u *userRecord) active() bool     { return u.doc["active"] == true }

// indexKey is the key of the per-tenant, case-insensitive email and username indexes.
func indexKey(tenantID, value string) string {
	return tenantID + "\x00" + strings.ToLower(value)
}

// insertUser stores a new user and indexes its email and username. Callers hold s.mu.
func (s *Server) insertUser(u *userRecord) {
	st := s.state
	st.nextSeq++
	u.seq = st.nextSeq
	st.users[u.id()] = u
	st.order = append(st.order, u)
	s.indexUser(u)
}

// indexUser adds a user's email and username to the indexes. Callers hold s.mu.
func (s *Server) indexUser(u *userRecord) {
	st := s.state
	if e := u.email(); e != "" {
		st.byEmail[indexKey(u.tenantID(), e)] = u.id()
	}
	if n := u.username(); n != "" {
		st.byUsername[indexKey(u.tenantID(), n)] = u.id()
	}
}

// removeUser deletes a user, its indexes and its pending ids. Callers hold s.mu.
func (s *Server) removeUser(u *userRecord) {
	st := s.state
	s.unindexUser(u)
	delete(st.users, u.id())
	u.removed = true
	st.removedInOrder++
	if st.removedInOrder > 1024 && st.removedInOrder > len(st.order)/2 {
		kept := st.order[:0]
		for _, r := range st.order {
			if !r.removed {
				kept = append(kept, r)
			}
		}
		clear(st.order[len(kept):])
		st.order = kept
		st.removedInOrder = 0
	}
	for id, cp := range st.changePassword {
		if cp.userID == u.id() {
			delete(st.changePassword, id)
		}
	}
	for id, otp := range st.oneTimePassword {
		if otp.userID == u.id() {
			delete(st.oneTimePassword, id)
		}
	}
}

// unindexUser removes a user's email and username from the indexes. Callers hold s.mu.
func (s *Server) unindexUser(u *userRecord) {
	st := s.state
	if e := u.email(); e != "" && st.byEmail[indexKey(u.tenantID(), e)] == u.id() {
		delete(st.byEmail, indexKey(u.tenantID(), e))
	}
	if n := u.username(); n != "" && st.byUsername[indexKey(u.tenantID(), n)] == u.id() {
		delete(st.byUsername, indexKey(u.tenantID(), n))
	}
}

// replaceUserDoc swaps a user's document, keeping the indexes in step. Callers hold s.mu.
func (s *Server) replaceUserDoc(u *userRecord, doc map[string]any) {
	s.unindexUser(u)
	u.doc = doc
	s.indexUser(u)
}

// findByLoginID finds a user by email or username (case-insensitive) in a tenant, trying
// the login id types in order (default email, then username). Callers hold s.mu.
func (s *Server) findByLoginID(tenantID, loginID string, types []string) *userRecord {
	if len(types) == 0 {
		types = []string{"email", "username"}
	}
	for _, t := range types {
		var id string
		switch t {
		case "email":
			id = s.state.byEmail[indexKey(tenantID, strings.TrimSpace(loginID))]
		case "username":
			id = s.state.byUsername[indexKey(tenantID, strings.TrimSpace(loginID))]
		}
		if u := s.state.users[id]; id != "" && u != nil {
			return u
		}
	}
	return nil
}

// profileStrings are the User string fields a caller may set.
var profileStrings = []string{
	"email", "username", "firstName", "middleName", "lastName", "fullName", "birthDate",
	"mobilePhone", "phoneNumber", "imageUrl", "timezone", "parentEmail", "cleanSpeakId",
}

var birthDatePattern = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)

// sanitizeProfile keeps the caller-settable fields of a User object, coerced to their
// types. Blank strings count as unset (the anonymous-user example clears a username
// with ""). Server-managed fields (id, active, instants, registrations…) are dropped;
// callers impose them.
func sanitizeProfile(in map[string]any, errs *apiErrors) map[string]any {
	f := fields{m: in, prefix: "user.", errs: errs}
	out := make(map[string]any, 24) // room for the server-managed fields added later
	for _, name := range profileStrings {
		v := strings.TrimSpace(f.str(name))
		if v == "" {
			continue
		}
		switch name {
		case "email":
			v = strings.ToLower(v)
		case "birthDate":
			if _, err := time.Parse(time.DateOnly, v); err != nil || !birthDatePattern.MatchString(v) {
				f.invalid(name, v)
				continue
			}
		}
		out[name] = v
	}
	if d := f.object("data"); d != nil {
		out["data"] = cloneMap(d)
	}
	if langs := f.strings("preferredLanguages"); langs != nil {
		if len(langs) > 20 {
			errs.field("user.preferredLanguages", "[tooMany]user.preferredLanguages", "The [user.preferredLanguages] property has more than the maximum of [20] entries.")
		}
		out["preferredLanguages"] = normalize(langs)
	} else {
		out["preferredLanguages"] = []any{}
	}
	if v, ok := f.integer("expiry"); ok {
		out["expiry"] = v
	}
	if v, ok := f.boolean("passwordChangeRequired"); ok {
		out["passwordChangeRequired"] = v
	} else {
		out["passwordChangeRequired"] = false
	}
	if m, ok := in["memberships"].([]any); ok && len(m) > 0 {
		errs.field("user.memberships", "[invalid]user.memberships", "The [user.memberships] property references a group that does not exist.")
	}
	return out
}

// validEmail accepts a bare address with a dotted domain, as FusionAuth's validator does
// for the addresses this project uses.
func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && strings.Contains(s[at+1:], ".") && !strings.HasSuffix(s, ".")
}

// Email length limits of FusionAuth's user service: the address is an indexed column of
// 191 characters (the utf8mb4 index limit of MySQL, kept for every database), and the
// local part may not exceed 64 characters (fusionauth-issues #2037, #900).
const (
	maxEmailLength     = 191
	maxEmailLocalChars = 64
)

// checkEmailLength adds FusionAuth's error for an address that is too long to store.
// The whole-address code and message are the ones a maintainer quotes in
// fusionauth-issues #2037; the code for an over-long local part is not documented and
// is inferred ([notEmail]). It reports whether the length is acceptable.
func checkEmailLength(email string, errs *apiErrors) bool {
	if n := utf8.RuneCountInString(email); n > maxEmailLength {
		errs.field("user.email", "[tooLong]user.email", fmt.Sprintf("The [user.email] property is longer than the maximum of [%d] characters.", maxEmailLength))
		return false
	}
	if at := strings.LastIndexByte(email, '@'); at >= 0 && utf8.RuneCountInString(email[:at]) > maxEmailLocalChars {
		errs.field("user.email", "[notEmail]user.email", fmt.Sprintf("The [user.email] property is not a valid email address: its local part is longer than the maximum of [%d] characters.", maxEmailLocalChars))
		return false
	}
	return true
}

// checkIdentity validates email and username: at least one, email length and format, and
// case-insensitive uniqueness within the tenant (ignoring the user selfID). Callers hold s.mu.
func (s *Server) checkIdentity(tenantID, selfID string, u map[string]any, errs *apiErrors) {
	email, username := asString(u["email"]), asString(u["username"])
	if email == "" && username == "" {
		const msg = "You must specify either the [user.email] or [user.username] property. If you are emailing the user you must specify the [user.email]."
		errs.field("user.email", "[blank]user.email", msg)
		errs.field("user.username", "[blank]user.username", msg)
	}
	if email != "" && checkEmailLength(email, errs) {
		if !validEmail(email) {
			errs.field("user.email", "[notEmail]user.email", "The [user.email] property is not a valid email address.")
		} else if id, ok := s.state.byEmail[indexKey(tenantID, email)]; ok && id != selfID {
			errs.field("user.email", "[duplicate]user.email", "A User with email = ["+email+"] already exists.")
		}
	}
	if username != "" {
		if id, ok := s.state.byUsername[indexKey(tenantID, username)]; ok && id != selfID {
			errs.field("user.username", "[duplicate]user.username", "A User with username = ["+username+"] already exists.")
		}
	}
}

// newUserRequest is the part of a create request that matters here.
type newUserRequest struct {
	user             map[string]any
	password         string
	hasPassword      bool
	skipVerification bool
}

// parseNewUserRequest reads a UserRequest (or the user half of a RegistrationRequest)
// whose user object is user. sendSetPasswordEmail is not implemented: a request asking
// for it is refused through unsupported (the caller answers it) rather than served
// without the email.
func parseNewUserRequest(body, user map[string]any, errs *apiErrors) (req newUserRequest, unsupported string) {
	top := fields{m: body, errs: errs}
	req.user = user
	uf := fields{m: user, prefix: "user.", errs: errs}
	if uf.present("password") {
		req.password = uf.str("password")
		req.hasPassword = req.password != ""
	}
	if send, _ := top.boolean("sendSetPasswordEmail"); send {
		unsupported = "sendSetPasswordEmail"
	}
	req.skipVerification, _ = top.boolean("skipVerification")
	return req, unsupported
}

// buildUser validates a create request and returns the new user, not yet stored.
// Callers hold s.mu.
func (s *Server) buildUser(tenantID, id string, req newUserRequest, errs *apiErrors) *userRecord {
	doc := sanitizeProfile(req.user, errs)
	id = newID(s.state.users, id, "userId", "A User", errs)
	s.checkIdentity(tenantID, id, doc, errs)
	password := req.password
	if req.hasPassword {
		s.checkPassword(tenantID, "user.password", password, errs)
	} else {
		errs.field("user.password", "[blank]user.password", "You must specify the [user.password] property.")
	}
	if errs.has() {
		return nil
	}
	now := s.now().UnixMilli()
	doc["id"] = id
	doc["tenantId"] = tenantID
	doc["active"] = true
	stampCreated(doc, now-hashingGap(), now)
	doc["connectorId"] = connectorID
	doc["usernameStatus"] = "ACTIVE"
	doc["memberships"] = []any{}
	doc["registrations"] = []any{}
	verified := req.skipVerification || !s.tenantVerifiesEmail(tenantID)
	doc["verified"] = verified
	if verified {
		doc["verifiedInstant"] = now
	}
	return &userRecord{doc: doc, password: password}
}

// stampCreated sets the instants of a user created with a password, as FusionAuth
// does: insertInstant is taken when the request starts and lastUpdateInstant equals
// it; a login is recorded at creation (fusionauth-issues #1312, "working as designed";
// the User API's create response carries lastLoginInstant equal to insertInstant); and
// passwordLastUpdateInstant (hashed) comes a little later, when the hash is done (27–140
// ms in captures FusionAuth published: its blog "Using Java to manage FusionAuth",
// fusionauth-issues #824; a maintainer in #2048 calls such gaps an implementation
// detail). A created user answers at the clock's now, after the hash, so its insert is
// the gap before now: no stamp is ever later than the answer, as on a real server, where
// a request that follows the answer is later than all of them. The gap is drawn at
// random in that range, so nothing can rely on a value of it.
func stampCreated(doc map[string]any, insert, hashed int64) {
	doc["insertInstant"] = insert
	doc["lastUpdateInstant"] = insert
	doc["lastLoginInstant"] = insert
	doc["passwordLastUpdateInstant"] = hashed
}

// hashingGap is how long after insertInstant a new user's passwordLastUpdateInstant
// falls, in ms: 27 to 140.
func hashingGap() int64 { return 27 + mathrand.Int64N(114) }

// tenantVerifiesEmail reports whether the tenant requires email verification. Callers hold s.mu.
func (s *Server) tenantVerifiesEmail(tenantID string) bool {
	v, _ := lookupPath(s.state.tenants[tenantID], "emailConfiguration.verifyEmail")
	return truthy(v)
}

// visibleUser returns the user with the id when the request may see it (no tenant, or the
// user's), else nil. Callers hold s.mu.
func (s *Server) visibleUser(rc *reqCtx, id string) *userRecord {
	u := s.state.users[id]
	if u == nil || !rc.inTenant(u.tenantID()) {
		return nil
	}
	return u
}

// handleCreateUser serves POST /api/user and POST /api/user/{userId}.
func (s *Server) handleCreateUser(w http.ResponseWriter, r *http.Request, rc *reqCtx, cr createRequest) {
	req, unsupported := parseNewUserRequest(cr.body, cr.obj, cr.errs)
	if unsupported != "" {
		s.writeUnsupported(w, r, unsupported)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tenantID, ok := s.answerTenant(w, rc)
	if !ok {
		return
	}
	u := s.buildUser(tenantID, cr.id, req, cr.errs)
	if cr.errs.has() {
		writeErrors(w, http.StatusBadRequest, cr.errs)
		return
	}
	s.insertUser(u)
	resp := map[string]any{"user": cloneMap(u.doc)}
	if tok, exp, err := s.issueUserToken(u, nil, "USER_CREATE"); err == nil {
		resp["token"], resp["tokenExpirationInstant"] = tok, exp
	} else {
		s.log.Error("fatest: sign create-user token", "err", err)
	}
	writeJSON(w, http.StatusOK, resp)
}

// handleGetUser serves GET /api/user/{userId}.
func (s *Server) handleGetUser(w http.ResponseWriter, r *http.Request, rc *reqCtx, id string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	s.writeUser(w, s.visibleUser(rc, id))
}

// writeUser answers {"user": …}, or 404 with an empty body when u is nil. Callers hold s.mu.
func (s *Server) writeUser(w http.ResponseWriter, u *userRecord) {
	if u == nil {
		writeEmpty(w, http.StatusNotFound)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": cloneMap(u.doc)})
}

// handleLookupUser serves GET /api/user?email= (case-insensitive, in the request's
// tenant). The other lookups FusionAuth offers (username, loginId, changePasswordId)
// are not implemented.
func (s *Server) handleLookupUser(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	q := r.URL.Query()
	if !q.Has("email") {
		s.writeUnsupported(w, r, "a user lookup other than ?email=")
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if tenantID, ok := s.answerTenant(w, rc); ok {
		s.writeUser(w, s.findByLoginID(tenantID, q.Get("email"), []string{"email"}))
	}
}

// handleReactivateUser serves PUT /api/user/{userId}?reactivate=true without a body, the
// Reactivate User API. A full update (PUT with a user) is not implemented.
func (s *Server) handleReactivateUser(w http.ResponseWriter, r *http.Request, rc *reqCtx, id string) {
	raw, err := readBody(r)
	if err != nil {
		writeEmpty(w, http.StatusBadRequest)
		return
	}
	if r.URL.Query().Get("reactivate") != "true" || len(bytes.TrimSpace(raw)) > 0 {
		s.writeUnsupported(w, r, "PUT /api/user/{userId} other than ?reactivate=true without a body")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.visibleUser(rc, id)
	if u != nil {
		u.doc["active"] = true
		u.doc["lastUpdateInstant"] = s.now().UnixMilli()
	}
	s.writeUser(w, u)
}

// handlePatchUser serves PATCH /api/user/{userId} in FusionAuth's application/json
// flavour and as a JSON Patch document (RFC 6902), as FusionAuth applies it: to the user
// as read at the start of the request (prime-mvc loads it before the action runs), with
// the write later and nothing locked in between (see race.go). A document is one unit
// against that read (all of it applies or none), but two concurrent PATCHes can both
// pass their tests and both answer 200, and the later write wins.
func (s *Server) handlePatchUser(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	id, kind, raw, ok := s.readPatch(w, r, "userId")
	if !ok {
		return
	}
	s.mu.RLock()
	read := s.visibleUser(rc, id)
	var before map[string]any
	if read != nil {
		before = cloneMap(read.doc)
	}
	s.mu.RUnlock()
	if read == nil {
		writeEmpty(w, http.StatusNotFound)
		return
	}
	s.patchRead(id)
	body, errs := applyPatch(kind, map[string]any{"user": before}, raw)
	if errs != nil {
		writeErrors(w, http.StatusBadRequest, errs)
		return
	}
	errs = &apiErrors{}
	userIn := fields{m: body, errs: errs}.object("user")
	if userIn == nil {
		userIn = map[string]any{}
	}
	doc := sanitizeProfile(userIn, errs)
	password, hasPassword := "", false
	if pw := (fields{m: userIn, prefix: "user.", errs: errs}).str("password"); pw != "" {
		password, hasPassword = pw, true
	}

	// The write: the user as it is now (another request may have written it since the
	// read), with the unique constraints checked as the database does.
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.visibleUser(rc, id)
	if u == nil {
		writeEmpty(w, http.StatusNotFound)
		return
	}
	s.checkIdentity(u.tenantID(), id, doc, errs)
	if hasPassword {
		s.checkPassword(u.tenantID(), "user.password", password, errs)
	}
	if errs.has() {
		writeErrors(w, http.StatusBadRequest, errs)
		return
	}
	now := s.now().UnixMilli()
	// Server-managed fields cannot be changed through the User API (active is changed
	// by delete and reactivate only); they are kept as they are now.
	for _, k := range []string{"id", "tenantId", "active", "insertInstant", "lastLoginInstant",
		"passwordLastUpdateInstant", "connectorId", "usernameStatus", "memberships",
		"registrations", "verified", "verifiedInstant"} {
		if v, ok := u.doc[k]; ok {
			doc[k] = cloneValue(v)
		} else {
			delete(doc, k)
		}
	}
	doc["lastUpdateInstant"] = now
	if asString(doc["email"]) != u.email() && s.tenantVerifiesEmail(u.tenantID()) {
		doc["verified"] = false
		delete(doc, "verifiedInstant")
	}
	if hasPassword {
		u.password = password
		doc["passwordLastUpdateInstant"] = now
	}
	s.replaceUserDoc(u, doc)
	writeJSON(w, http.StatusOK, map[string]any{"user": cloneMap(u.doc)})
}

// handleDeleteUser serves DELETE /api/user/{userId}: soft (deactivate) unless hardDelete.
func (s *Server) handleDeleteUser(w http.ResponseWriter, r *http.Request, rc *reqCtx, id string) {
	hard, ok := readHardDelete(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch u := s.visibleUser(rc, id); {
	case u == nil:
		writeEmpty(w, http.StatusNotFound)
	default:
		s.deleteUserLocked(u, hard)
		writeEmpty(w, http.StatusOK)
	}
}

// readHardDelete reads a delete's hardDelete, from the body (an empty body is an empty
// object) over the query; a bad body is answered here.
func readHardDelete(w http.ResponseWriter, r *http.Request) (hard, ok bool) {
	f, ok := readFields(w, r)
	if !ok {
		return false, false
	}
	hard, set := f.boolean("hardDelete")
	if !set {
		hard = r.URL.Query().Get("hardDelete") == "true"
	}
	if f.errs.has() {
		writeErrors(w, http.StatusBadRequest, f.errs)
		return false, false
	}
	return hard, true
}

// deleteUserLocked hard-deletes or deactivates a user. Callers hold s.mu.
func (s *Server) deleteUserLocked(u *userRecord, hard bool) {
	if hard {
		s.removeUser(u)
		return
	}
	u.doc["active"] = false
	u.doc["lastUpdateInstant"] = s.now().UnixMilli()
}

// PutUser stores a user directly, bypassing the API (fast seeding for tests with many
// users). tenantId is required once there is more than one tenant. Given id, tenantId,
// insertInstant, lastUpdateInstant, passwordLastUpdateInstant, lastLoginInstant and
// active are honoured; missing ones get the defaults of a user created now through the
// API (stampCreated; no lastLoginInstant without a password). Email is lower-cased; email and
// username must be unique within the tenant, and at least one must be set.
func (s *Server) PutUser(user map[string]any, password string) error {
	in, _ := normalize(user).(map[string]any)
	if in == nil {
		return fmt.Errorf("fatest: put user: not a JSON object")
	}
	errs := &apiErrors{}
	doc := sanitizeProfile(in, errs)
	s.mu.Lock()
	defer s.mu.Unlock()
	tenantID, terr := s.requireTenant(&reqCtx{})
	if t := asString(in["tenantId"]); t != "" {
		var ok bool
		if tenantID, ok = canonicalUUID(t); !ok || s.state.tenants[tenantID] == nil {
			return fmt.Errorf("fatest: put user: unknown tenant %q", t)
		}
	} else if terr != nil {
		return fmt.Errorf("fatest: put user: tenantId is required with more than one tenant, as FusionAuth requires it")
	}
	id := newUUID()
	if v := asString(in["id"]); v != "" {
		var ok bool
		if id, ok = canonicalUUID(v); !ok {
			return fmt.Errorf("fatest: put user: id %q is not a UUID", v)
		}
		if _, exists := s.state.users[id]; exists {
			return fmt.Errorf("fatest: put user: a user with id %s already exists", id)
		}
	}
	s.checkIdentity(tenantID, id, doc, errs)
	if errs.has() {
		return fmt.Errorf("fatest: put user %s: %s", id, errs.summary())
	}
	now := s.now().UnixMilli()
	doc["id"] = id
	doc["tenantId"] = tenantID
	doc["active"] = true
	if v, ok := in["active"].(bool); ok {
		doc["active"] = v
	}
	if v, ok := asInt64(in["insertInstant"]); ok {
		stampCreated(doc, v, v+hashingGap()) // a user from the past: its stamps are history
	} else {
		stampCreated(doc, now-hashingGap(), now)
	}
	if password == "" {
		delete(doc, "lastLoginInstant") // no password, no login at creation
	}
	for _, k := range []string{"lastUpdateInstant", "passwordLastUpdateInstant", "lastLoginInstant"} {
		if v, ok := asInt64(in[k]); ok {
			doc[k] = v
		}
	}
	doc["connectorId"] = connectorID
	doc["usernameStatus"] = "ACTIVE"
	doc["memberships"] = []any{}
	doc["registrations"] = []any{}
	if regs, ok := in["registrations"].([]any); ok {
		doc["registrations"] = cloneValue(regs)
	}
	doc["verified"] = true
	if v, ok := in["verified"].(bool); ok {
		doc["verified"] = v
	}
	s.insertUser(&userRecord{doc: doc, password: password})
	return nil
}

// User returns a copy of the stored user, as the API would return it.
func (s *Server) User(id string) (map[string]any, bool) {
	if c, ok := canonicalUUID(id); ok {
		id = c
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	u := s.state.users[id]
	if u == nil {
		return nil, false
	}
	return cloneMap(u.doc), true
}

// UserCount returns how many users are stored (active or not).
func (s *Server) UserCount() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.state.users)
}

// summary renders the error codes on one line (for Go errors, never for responses).
func (e *apiErrors) summary() string {
	var codes []string
	for _, k := range sortedKeys(e.FieldErrors) {
		for _, fe := range e.FieldErrors[k] {
			codes = append(codes, fe.Code)
		}
	}
	for _, ge := range e.GeneralErrors {
		codes = append(codes, ge.Code+" "+ge.Message)
	}
	return strings.Join(codes, ", ")
}
