// Command caddy is Caddy with its standard modules and llmgate: the same
// binary `xcaddy build --with github.com/llmgate/caddy-llmgate` makes.
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"
	_ "github.com/llmgate/caddy-llmgate"
)

func main() {
	caddycmd.Main()
}
