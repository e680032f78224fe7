package llmgate_test

import "testing"

// TestModelBodyParsedOnce: two llm_model matchers, a rate-limit zone
// matching on the model with a token limit, and the cache all look at the
// body; it is parsed once, and a later handler finds that parse.
func TestModelBodyParsedOnce(t *testing.T) {
	site, _, _ := modelSite(t, `route {
		@big llm_model gpt-4*
		@small llm_model *mini
		header @big X-Big 1
		header @small X-Small 1
		llm_ratelimit {
			zone probe {
				match llm_model gpt-4*
				requests 100/m
				tokens 100000/m
			}
		}
		llm_cache
		llmgate_test_probe
	}`)
	resp, _ := post(t, site+"/v1/chat/completions", `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"once"}]}`)
	for h, want := range map[string]string{"X-Big": "1", "X-Small": "1", "X-Parsed-Before": "true", "X-Same-Parse": "true"} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if resp.Header.Get("X-Ratelimit-Limit-Tokens") != "100000" {
		t.Error("the model zone did not apply")
	}
}
