// Package anon is the domain of anonymous ("stub") users: a visitor who does something
// worth recording gets a FusionAuth account with a random username and password and a
// signed cookie naming it; what they do accrues in user.data; later they prove an
// email address and keep everything.
//
// The package holds the rules and the small interfaces it needs from FusionAuth
// (satisfied by *faclient.Client). HTTP handlers live in package site, Lambda wiring
// in functions/*.
package anon
