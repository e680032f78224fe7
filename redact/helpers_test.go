package redact

import "testing"

// scrubCase is a text and what a scrubber must make of it.
type scrubCase struct{ name, in, want string }

// checkScrubCases scrubs the text of each case with s, and checks the
// result and that a second pass leaves it as it is.
func checkScrubCases(t *testing.T, s *Scrubber, cases []scrubCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := s.String(c.in)
			if got != c.want {
				t.Fatalf("\n in: %s\ngot: %s\nwant: %s", c.in, got, c.want)
			}
			if again := s.String(got); again != got {
				t.Fatalf("second pass changed %s to %s", got, again)
			}
		})
	}
}

// accessLine is a Caddy access-log line of about 400 bytes; extraHeader, when
// given, is spliced into the request headers (e.g. `"X-Api-Key":["…"],`).
func accessLine(extraHeader string) string {
	return `{"level":"info","ts":1767225600.123,"logger":"http.log.access","msg":"handled request",` +
		`"request":{"remote_ip":"203.0.113.7","proto":"HTTP/1.1","method":"POST","host":"api.example.com",` +
		`"uri":"/v1/chat/completions","headers":{` + extraHeader +
		`"User-Agent":["curl/8.5.0"],"Content-Type":["application/json"]}},` +
		`"bytes_read":412,"duration":0.8123,"size":1873,"status":200,` +
		`"resp_headers":{"Content-Type":["application/json"]}}` + "\n"
}
