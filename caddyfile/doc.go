// Package caddyfile is the Caddyfile grammar of llmgate's directives: it
// reads a directive's tokens into the configuration structs of the cache
// and limiter packages. Errors name the file, line and option.
package caddyfile
