package caddyfile_test

import (
	"encoding/json"
	"testing"

	"github.com/llmgate/caddy-llmgate/internal/harness/testcaddy"
)

// siteLog adapts a site whose log block is given and returns the JSON of
// the site's access logger's encoder.
func siteLog(t *testing.T, log string) (string, error) {
	t.Helper()
	out, err := testcaddy.Adapt(":8080 {\n" + log + "\nrespond ok\n}\n")
	if err != nil {
		return "", err
	}
	var cfg struct {
		Logging struct {
			Logs map[string]struct {
				Encoder json.RawMessage `json:"encoder"`
			} `json:"logs"`
		} `json:"logging"`
	}
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatal(err)
	}
	return string(cfg.Logging.Logs["log0"].Encoder), nil
}

func TestAdaptRedact(t *testing.T) {
	checkAdapt(t, siteLog, []adaptCase{
		{"bare", "log {\nformat llm_redact\n}", `{"format":"llm_redact"}`},
		{
			"wrap and patterns",
			"log {\nformat llm_redact {\n wrap console\n pattern \"hf_[A-Za-z0-9]{30,}\"\n pattern \"password=([^&]+)\"\n}\n}",
			`{"format":"llm_redact","patterns":["hf_[A-Za-z0-9]{30,}","password=([^\u0026]+)"],"wrap":{"format":"console"}}`,
		},
		{
			"field filter",
			"log {\nformat filter {\n request>headers>X-Api-Key llm_redact\n request>uri llm_redact {\n pattern \"tok_[a-z]{9}\"\n }\n}\n}",
			`{"fields":{"request\u003eheaders\u003eX-Api-Key":{"filter":"llm_redact"},"request\u003euri":{"filter":"llm_redact","patterns":["tok_[a-z]{9}"]}},"format":"filter"}`,
		},
	})
}

func TestAdaptRedactErrors(t *testing.T) {
	checkAdaptErrors(t, siteLog, []errorCase{
		{"bad pattern", "log {\nformat llm_redact {\n pattern \"a(\"\n}\n}", "pattern: ", "at Caddyfile:4"},
		{"empty match", "log {\nformat llm_redact {\n pattern \"x*\"\n}\n}", "pattern: ", "at Caddyfile:4"},
		{"unknown option", "log {\nformat llm_redact {\n colour red\n}\n}", `unrecognized llm_redact option "colour"`, "at Caddyfile:4"},
		{"wrap in a filter", "log {\nformat filter {\n uri llm_redact {\n wrap json\n }\n}\n}", `unrecognized llm_redact option "wrap"`, "at Caddyfile:5"},
		{"repeated wrap", "log {\nformat llm_redact {\n wrap json\n wrap console\n}\n}", "wrap: already specified", "at Caddyfile:5"},
	})
}
