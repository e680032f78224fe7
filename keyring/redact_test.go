package keyring_test

import (
	"strings"
	"testing"

	"github.com/llmgate/caddy-llmgate/keyring"
	"github.com/llmgate/caddy-llmgate/redact"
)

// TestNewKeysAreRedacted: keys New makes are scrubbed from log lines by
// llmgate's redaction, as every sk- key is.
func TestNewKeysAreRedacted(t *testing.T) {
	s, err := redact.New()
	if err != nil {
		t.Fatal(err)
	}
	k := keyring.New()
	line := `{"msg":"request","key":"` + k + `"}`
	if got := s.String(line); strings.Contains(got, k[len("sk-llmgate-"):]) {
		t.Fatalf("the key survives redaction: %s", got)
	}
}
