// Command fakeai runs the fake OpenAI/Anthropic upstream on a fixed address
// for benchmarks and the demo: it prints the base URL and serves until
// interrupted. Recording is off so a long run keeps constant memory.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/llmgate/caddy-llmgate/internal/harness/fakeai"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8089", "address to listen on (host:port)")
	flag.Parse()
	srv, err := fakeai.Listen(*listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakeai:", err)
		os.Exit(1)
	}
	srv.SetRecordLimit(0)
	fmt.Println(srv.URL())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	srv.Close()
}
