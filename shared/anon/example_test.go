package anon_test

// Runnable examples of package anon as a library: each starts the FusionAuth stand-in
// (package fatest, configured from kickstart/kickstart.json), talks to it with the
// register function's least-privilege key, and prints what a site would show.

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/changebank/anonuser/shared/anon"
	"github.com/changebank/anonuser/shared/clocktest"
	"github.com/changebank/anonuser/shared/faclient"
	"github.com/changebank/anonuser/shared/faclient/fatest"
	"github.com/changebank/anonuser/shared/kickstart"
	"github.com/changebank/anonuser/shared/lock"
)

// site is what an embedding site holds: a FusionAuth client, the profile leases, and
// the three parts of package anon built on them.
type site struct {
	fa       *fatest.Server
	client   *faclient.Client
	clock    *clocktest.Clock
	visits   *anon.Service   // start a profile, record visits and watch time
	convert  *anon.Converter // ask for an email, complete the conversion
	accounts *anon.Accounts  // sign-in settlement, merge, export, forget
}

// newSite starts the stand-in and wires package anon to it; close stops it.
func newSite() (s *site, close func()) {
	path, err := kickstart.Path()
	if err != nil {
		log.Fatal(err)
	}
	s = &site{clock: clocktest.New(time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC))}
	s.fa, err = fatest.Start(fatest.Options{Kickstart: path, Now: s.clock.Now})
	if err != nil {
		log.Fatal(err)
	}
	s.client, err = faclient.New(faclient.Options{
		BaseURL:  s.fa.URL(),
		TenantID: s.fa.Variable("visitorTenantId"),
		Keys:     faclient.StaticKey(s.fa.Variable("registerApiKey")),
	})
	if err != nil {
		log.Fatal(err)
	}
	locks := lock.NewMemory() // on Lambda: lock.NewDynamoDB, shared by every function
	s.visits = anon.NewWith(s.client, locks, anon.Options{VideoSeconds: 600, Now: s.clock.Now})
	s.convert = anon.NewConverter(s.client, locks, anon.ConverterOptions{
		ApplicationID:           s.fa.Variable("applicationId"),
		AccountExistsTemplateID: s.fa.Variable("accountExistsEmailTemplateId"),
		SignInURL:               "https://auth.example.com/oauth2/authorize",
		Now:                     s.clock.Now,
	})
	s.accounts = anon.NewAccounts(s.client, s.convert)
	return s, func() { _ = s.fa.Close() }
}

// setPassword follows the set-password link FusionAuth emailed to address, as its
// owner would.
func (s *site) setPassword(address string) {
	for _, m := range s.fa.Outbox() {
		if m.To == address && m.ChangePasswordID != "" {
			s.clock.Advance(time.Minute)
			if _, err := s.client.ChangePassword(context.Background(), m.ChangePasswordID, faclient.ChangePasswordRequest{Password: "correct horse battery"}); err != nil {
				log.Fatal(err)
			}
			return
		}
	}
	log.Fatalf("no set-password email to %s", address)
}

// check stops an example on an error.
func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// A visitor does something worth recording: StartProfile creates their anonymous
// FusionAuth user (one call). The site signs its id into a cookie (package token).
func ExampleService_StartProfile() {
	s, done := newSite()
	defer done()
	p, err := s.visits.StartProfile(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("anonymous:", p.Anonymous, "watched:", p.WatchCount, "valid id:", anon.ValidUserID(p.UserID))
	// Output: anonymous: true watched: 1 valid id: true
}

// Each return visit counts on the profile the cookie names, through the one
// test-and-set writer (two calls: read, patch).
func ExampleService_RecordWatch() {
	s, done := newSite()
	defer done()
	ctx := context.Background()
	p, _ := s.visits.StartProfile(ctx)
	for range 2 {
		s.clock.Advance(time.Hour)
		if _, err := s.visits.RecordWatch(ctx, p.UserID); err != nil {
			log.Fatal(err)
		}
	}
	p, _ = s.visits.RecordWatch(ctx, p.UserID)
	fmt.Println("watched:", p.WatchCount)
	// Output: watched: 4
}

// The page reports the seconds played; a report is capped by the time since the visit
// began, so a script cannot inflate it.
func ExampleService_RecordProgress() {
	s, done := newSite()
	defer done()
	ctx := context.Background()
	p, _ := s.visits.StartProfile(ctx)
	s.clock.Advance(30 * time.Second)
	_, credited, err := s.visits.RecordProgress(ctx, p.UserID, 20, false)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("credited:", credited)
	_, credited, _ = s.visits.RecordProgress(ctx, p.UserID, 3600, false) // claims an hour
	fmt.Println("credited:", credited)
	// Output:
	// credited: 20
	// credited: 10
}

// Converting: the visitor gives an address; FusionAuth emails a set-password link
// to it. Setting the password proves the address, and the conversion completes (the
// webhook of the first login does this, or the sign-in, whichever comes first).
func ExampleConverter_RequestConversion() {
	s, done := newSite()
	defer done()
	ctx := context.Background()
	p, _ := s.visits.StartProfile(ctx)
	if _, err := s.convert.RequestConversion(ctx, p.UserID, "visitor@example.com"); err != nil {
		log.Fatal(err)
	}
	v, _ := s.convert.Visitor(ctx, p.UserID)
	fmt.Println("pending:", v.EmailPending, "email:", v.Email)

	s.setPassword("visitor@example.com")
	converted, err := s.convert.CompleteConversion(ctx, p.UserID)
	if err != nil {
		log.Fatal(err)
	}
	v, _ = s.visits.Account(ctx, p.UserID)
	fmt.Println("converted:", converted, "anonymous:", v.Anonymous, "still watched:", v.WatchCount)
	// Output:
	// pending: true email: visitor@example.com
	// converted: true anonymous: false still watched: 1
}

// Sign-in settlement: someone with an account signs in on a browser whose cookie
// names a different stub. The stub's history merges into the account by the schema's
// rules, in one write, and the stub is deleted.
func ExampleAccounts_SignedIn() {
	s, done := newSite()
	defer done()
	ctx := context.Background()
	account, _ := s.visits.StartProfile(ctx)
	_, err := s.convert.RequestConversion(ctx, account.UserID, "owner@example.com")
	check(err)
	s.setPassword("owner@example.com")
	_, err = s.convert.CompleteConversion(ctx, account.UserID)
	check(err)

	stub, _ := s.visits.StartProfile(ctx) // another device, another stub
	_, err = s.visits.RecordWatch(ctx, stub.UserID)
	check(err)
	settled, err := s.accounts.SignedIn(ctx, account.UserID, stub.UserID)
	check(err)
	p, _ := s.visits.Account(ctx, account.UserID)
	_, err = s.visits.Account(ctx, stub.UserID)
	fmt.Println("merged:", settled == anon.Merged, "watched:", p.WatchCount, "stub gone:", err != nil)
	// Output: merged: true watched: 3 stub gone: true
}

// MergeData is the merge's arithmetic on its own: every key by its rule in Schema.
func ExampleMergeData() {
	account := map[string]any{anon.DataWatchCount: 5.0, anon.DataFirstVisit: 2000.0, anon.DataLastVisit: 2000.0}
	stub := map[string]any{anon.DataWatchCount: 3.0, anon.DataFirstVisit: 1000.0, anon.DataLastVisit: 3000.0, anon.DataAnonymous: true}
	merged := anon.MergeData(account, stub)
	fmt.Println(merged[anon.DataWatchCount], merged[anon.DataFirstVisit], merged[anon.DataLastVisit], merged[anon.DataAnonymous])
	// Output: 8 1000 3000 <nil>
}

// A visitor's own data: Export is what FusionAuth holds minus secrets; Forget deletes
// the anonymous profile, and a replay deletes nothing.
func ExampleAccounts_Forget() {
	s, done := newSite()
	defer done()
	ctx := context.Background()
	p, _ := s.visits.StartProfile(ctx)
	export, _ := s.accounts.Export(ctx, p.UserID, false)
	_, hasUsername := export["username"]
	fmt.Println("exported data:", export["data"] != nil, "username:", hasUsername)
	deleted, _ := s.accounts.Forget(ctx, p.UserID, false)
	again, err := s.accounts.Forget(ctx, p.UserID, false)
	fmt.Println("deleted:", deleted, "again:", again, err)
	// Output:
	// exported data: true username: false
	// deleted: true again: false <nil>
}
