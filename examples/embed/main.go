// Command embed is a plain net/http site on package anon; docs/embedding.md walks through it.
package main

import (
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/lock"
	"github.com/changebank/anonuser/shared/token"
)

func main() {
	fa, err := faclient.New(faclient.Options{BaseURL: os.Getenv("FUSIONAUTH_URL"), TenantID: os.Getenv("FUSIONAUTH_TENANT_ID"),
		Keys: faclient.StaticKey(os.Getenv("FUSIONAUTH_API_KEY"))}) // a key like the register function's
	cookies, err2 := token.NewVisitor([]token.Key{{ID: "1", Secret: []byte(os.Getenv("COOKIE_SECRET"))}}, nil) // 32+ bytes
	if err := errors.Join(err, err2); err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", newSite(fa, cookies)))
}

func newSite(fa *faclient.Client, cookies *token.Visitor) http.Handler {
	locks := lock.NewMemory() // one process; on Lambda, lock.NewDynamoDB shared by all
	visits, convert := anon.New(fa, locks), anon.NewConverter(fa, locks, anon.ConverterOptions{})
	visitor := func(r *http.Request) (id string) { // the profile the cookie names, or ""
		if c, err := r.Cookie("visitor"); err == nil {
			id, _, _ = cookies.Verify(c.Value) // "" when forged or expired
		}
		return id
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		p, err := visits.RecordWatch(r.Context(), visitor(r))
		if errors.Is(err, anon.ErrGone) || errors.Is(err, anon.ErrNotAnonymous) { // none yet, or not a stub
			if p, err = visits.StartProfile(r.Context()); err == nil {
				signed, _ := cookies.Sign(p.UserID)
				http.SetCookie(w, &http.Cookie{Name: "visitor", Value: signed, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
			}
		}
		if err != nil { // FusionAuth is failing: keep the cookie, count nothing
			http.Error(w, "try again later", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "You have visited %d times.\n", p.WatchCount)
	})
	mux.HandleFunc("POST /convert", func(w http.ResponseWriter, r *http.Request) {
		if _, err := convert.RequestConversion(r.Context(), visitor(r), r.FormValue("email")); err != nil {
			http.Error(w, "could not send the email", http.StatusBadRequest)
			return
		}
		fmt.Fprintln(w, "Check your inbox: the link there keeps your history.")
	})
	return http.NewCrossOriginProtection().Handler(mux) // refuses cross-site POSTs
}
