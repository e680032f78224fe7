//go:build !race

package llmgate_test

// relRace reports that the race detector is on: it slows the in-process
// Caddy about threefold, so load tests send less.
const relRace = false
