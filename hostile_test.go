package llmgate_test

import (
	"testing"
)

// A caller that accepts gzip (Go's, Python's and most HTTP clients do by
// default) gets the upstream's answer compressed; its usage must still
// be charged, not only the reservation's estimate.
func TestTokensGzipJSONAnswerSettles(t *testing.T) {
	site, _ := tokenSite(t, "300/m", "")
	gzip := []string{"Accept-Encoding", "gzip", "x-fake-gzip", "1"}
	s1, _, _ := ask(t, site, "/v1/chat/completions", "one", false, "200,7", gzip...)
	s2, _, _ := ask(t, site, "/v1/chat/completions", "two", false, "200,7", gzip...)
	s3, _, _ := ask(t, site, "/v1/chat/completions", "three", false, "200,7", gzip...)
	if s1 != 200 || s2 != 200 || s3 != 429 {
		t.Fatalf("statuses %d %d %d after two gzipped answers of 207 tokens in a 300/m zone, want 200 200 429", s1, s2, s3)
	}
}
