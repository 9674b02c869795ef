package flow_test

import (
	"net/url"
	"reflect"
	"testing"

	"github.com/changebank/anonuser/e2e/flow"
)

// A login page shaped like a themed FusionAuth page: a search form first, then the login
// form with hidden OAuth fields, a relative action, entities, single-quoted and bare
// attributes, an unchecked and a checked checkbox, and a submit button.
const loginPage = `<html><body>
<form action="/search" method="get"><input name="q" value="x"></form>
<form id="login" action='/oauth2/authorize?x=1' method=POST class="full">
  <input type="hidden" name="client_id" value="e9fdb985-9173-4e01-9d73-ac2d60d1dc8e">
  <input type="hidden" name="redirect_uri" value="http://localhost:3000/video?a=1&amp;b=2">
  <input type="hidden" name="state" value="">
  <input id="loginId" name="loginId" type="text" autocomplete="username" autofocus>
  <input id="password" name="password" type="password">
  <input type="checkbox" name="rememberDevice">
  <input type="checkbox" name="agree" checked>
  <input type="submit" name="go" value="Log in">
  <button type="submit">Submit</button>
</form></body></html>`

func TestFindFormReadsTheFormWithTheField(t *testing.T) {
	f, err := flow.FindForm(loginPage, "http://localhost:9011/oauth2/authorize?client_id=x", "loginId")
	if err != nil {
		t.Fatalf("FindForm: %v", err)
	}
	if got, want := f.Action, "http://localhost:9011/oauth2/authorize?x=1"; got != want {
		t.Errorf("action: got %s, want %s", got, want)
	}
	if got, want := f.Method, "POST"; got != want {
		t.Errorf("method: got %s, want %s", got, want)
	}
	want := url.Values{
		"client_id":    {"e9fdb985-9173-4e01-9d73-ac2d60d1dc8e"},
		"redirect_uri": {"http://localhost:3000/video?a=1&b=2"},
		"state":        {""},
		"loginId":      {""},
		"password":     {""},
		"agree":        {"on"},
	}
	if !reflect.DeepEqual(f.Values, want) {
		t.Errorf("values: got %v, want %v (hidden fields kept, unchecked boxes and buttons left out)", f.Values, want)
	}
}

func TestFindFormDefaultsAndMisses(t *testing.T) {
	f, err := flow.FindForm(`<form><input name="email"></form>`, "http://127.0.0.1:3000/register", "email")
	if err != nil {
		t.Fatalf("FindForm: %v", err)
	}
	if f.Action != "http://127.0.0.1:3000/register" || f.Method != "GET" {
		t.Errorf("form without action and method: got %s %s, want GET to the page itself", f.Method, f.Action)
	}
	if _, err := flow.FindForm(loginPage, "http://localhost:9011/", "passwordConfirm"); err == nil {
		t.Error("FindForm for a field no form has: got a form, want an error")
	}
}
