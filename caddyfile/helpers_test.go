package caddyfile_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/llmgate/caddy-llmgate/internal/harness/testcaddy"
)

// handlers adapts a one-site Caddyfile and returns the JSON of the site's
// route handlers.
func handlers(t *testing.T, site string) (string, error) {
	t.Helper()
	out, err := testcaddy.Adapt(":8080 {\n" + site + "\n}\n")
	if err != nil {
		return "", err
	}
	var cfg struct {
		Apps struct {
			HTTP struct {
				Servers map[string]struct {
					Routes []struct {
						Handle []json.RawMessage `json:"handle"`
					} `json:"routes"`
				} `json:"servers"`
			} `json:"http"`
		} `json:"apps"`
	}
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatal(err)
	}
	var hs []string
	for _, r := range cfg.Apps.HTTP.Servers["srv0"].Routes {
		for _, h := range r.Handle {
			hs = append(hs, string(h))
		}
	}
	return strings.Join(hs, "\n"), nil
}

// adaptCase is a Caddyfile snippet and the JSON it adapts to.
type adaptCase struct{ name, in, want string }

// errorCase is a Caddyfile snippet that must not adapt: the error says
// want and ends with line, where the mistake is.
type errorCase struct{ name, in, want, line string }

// checkAdapt adapts each case's snippet with adapt and compares the JSON.
func checkAdapt(t *testing.T, adapt func(*testing.T, string) (string, error), cases []adaptCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := adapt(t, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// checkAdaptErrors adapts each case's snippet with adapt, which must fail
// with its error at its line, and never with a password of the snippet
// (hunter2, the only one the cases use) in the message.
func checkAdaptErrors(t *testing.T, adapt func(*testing.T, string) (string, error), cases []errorCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := adapt(t, tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasSuffix(err.Error(), tc.line) {
				t.Fatalf("error %v, want it to contain %q and end with %q", err, tc.want, tc.line)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error shows the Redis password: %v", err)
			}
		})
	}
}
