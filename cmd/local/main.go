// Command local runs the whole project on this machine with no Docker and no AWS:
// every function on one HTTP server and an embedded FusionAuth-compatible server
// configured from kickstart/kickstart.json, all on loopback.
//
//	go run ./cmd/local [-addr 127.0.0.1:3000] [-fusionauth-addr 127.0.0.1:9011]
//
// With FUSIONAUTH_URL set it uses that FusionAuth (configured from the same
// kickstart file) instead of the embedded one. COOKIE_KEYS holds the visitor-cookie keys
// (the JSON of the deployed secret); without it a random key is made at each start.
// Ctrl-C stops it.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/changebank/anonuser/shared/app"
	"github.com/changebank/anonuser/shared/devserver"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "local:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:3000", "address the functions listen on")
	faAddr := fs.String("fusionauth-addr", "127.0.0.1:9011", "address the embedded FusionAuth listens on")
	kickstart := fs.String("kickstart", "", "kickstart file (default kickstart/kickstart.json)")
	pruneEvery := fs.Duration("prune-every", 24*time.Hour, "how often the prune schedule runs (0 = only on POST /_local/prune)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := devserver.Start(ctx, devserver.Options{
		Addr:           *addr,
		FusionAuthAddr: *faAddr,
		FusionAuthURL:  os.Getenv("FUSIONAUTH_URL"),
		Kickstart:      *kickstart,
		Logger:         app.NewLogger(os.Stderr),
		PruneEvery:     *pruneEvery,
		CookieKeys:     os.Getenv("COOKIE_KEYS"),
	})
	if err != nil {
		return err
	}
	fmt.Fprint(out, s.Banner())
	<-ctx.Done()
	fmt.Fprintln(out, "stopping")
	return s.Close()
}
