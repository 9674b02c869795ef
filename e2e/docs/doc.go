// Package docs holds no code, only tests: they check the repository's documentation
// (README.md and docs/*.md) against the repository, with the standard library alone.
//
// TestDocsLinks: every relative markdown link points to a file that exists, and a
// #fragment to a heading of the target (its GitHub slug). TestDocsCommands: every
// fenced sh, bash, shell or console block, and every inline command (a code span that
// starts with go, curl, docker, sam, aws or a script), parses with `bash -n`; every
// scripts/ path named exists and a script file is executable; every ./path a go command
// names is a directory. TestDiagramMatchesRoutes: the README's Mermaid sequence diagram
// names every product route as `METHOD /path`: every HTTP API event of template.yaml
// and every path the local stack's mux serves (shared/devserver, read with go/ast), and
// no route that is in neither. TestCheckersCatchErrors shows each checker failing on a
// broken input.
package docs
