package llmreq

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// credentialRequest builds a request to target with header pairs ("Name",
// "value", ...); a name given twice is sent with both values, and names
// are canonicalised as a server reading them does.
func credentialRequest(target string, header ...string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Add(header[i], header[i+1])
	}
	return r
}

func TestCredential(t *testing.T) {
	const k = "sk-proj-abc123"
	tests := []struct {
		name   string
		target string
		header []string
		want   string
	}{
		{"none", "/v1/chat/completions", nil, ""},
		{"bearer", "/", []string{"Authorization", "Bearer " + k}, k},
		{"bearer lower case", "/", []string{"Authorization", "bearer " + k}, k},
		{"bearer upper case", "/", []string{"Authorization", "BEARER " + k}, k},
		{"bearer two spaces", "/", []string{"Authorization", "Bearer  " + k}, k},
		{"bearer tab", "/", []string{"Authorization", "Bearer\t" + k}, k},
		{"spaces around", "/", []string{"Authorization", " \tBearer " + k + " \t"}, k},
		{"bare key in Authorization", "/", []string{"Authorization", k}, k},
		{"x-api-key", "/", []string{"x-api-key", k}, k},
		{"X-API-KEY", "/", []string{"X-API-KEY", " " + k + " "}, k},
		{"api-key", "/", []string{"api-key", k}, k},
		{"x-goog-api-key", "/", []string{"x-goog-api-key", "AIzaSyA-key"}, "AIzaSyA-key"},
		{"query key", "/v1beta/models/gemini:generateContent?alt=sse&key=AIzaSyA-key", nil, "AIzaSyA-key"},
		{"query KEY", "/?KEY=AIzaSyA-key", nil, "AIzaSyA-key"},
		{"query key percent-encoded", "/?key=AIzaSyA%2Dkey", nil, "AIzaSyA-key"},
		{"query name percent-encoded", "/?k%65y=AIzaSyA-key", nil, "AIzaSyA-key"},
		{"query key repeated", "/?key=AIzaSyA-key&key=AIzaSyA%2dkey", nil, "AIzaSyA-key"},
		{"query key malformed escape", "/?key=AIza%zz", nil, "AIza%zz"},
		{"query other names", "/?keys=a&api_key=b&monkey=c&key", nil, ""},
		{"basic keeps its scheme", "/", []string{"Authorization", "Basic dXNlcjpwdw=="}, "basic dXNlcjpwdw=="},
		{"BASIC and two spaces", "/", []string{"Authorization", "BASIC  dXNlcjpwdw=="}, "basic dXNlcjpwdw=="},
		{"scheme alone", "/", []string{"Authorization", "Bearer "}, ""},
		{"BEARER alone", "/", []string{"Authorization", "BEARER"}, ""},
		{"empty values", "/?key=", []string{"Authorization", "", "X-Api-Key", " ", "Api-Key", "\t"}, ""},
		{"same key twice in one header", "/", []string{"Authorization", "Bearer " + k, "Authorization", "bearer  " + k}, k},
		{"same key in every place", "/?key=" + k, []string{"Authorization", "Bearer " + k, "X-Api-Key", k, "Api-Key", k, "X-Goog-Api-Key", k}, k},
		{"an empty one beside a key", "/", []string{"Authorization", "Bearer", "X-Api-Key", k}, k},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Credential(credentialRequest(tt.target, tt.header...))
			if err != nil || got != tt.want {
				t.Fatalf("Credential = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestCredentialConflicts: two different keys in one request are refused,
// wherever the second one is: varying it must not make a new caller.
func TestCredentialConflicts(t *testing.T) {
	const a, b = "sk-proj-aaa", "sk-proj-bbb"
	tests := []struct {
		name   string
		target string
		header []string
	}{
		{"two Authorization values", "/", []string{"Authorization", "Bearer " + a, "Authorization", "Bearer " + b}},
		{"keys differing in case", "/", []string{"Authorization", "Bearer " + a, "Authorization", "Bearer SK-PROJ-AAA"}},
		{"two x-api-key values", "/", []string{"X-Api-Key", a, "x-api-key", b}},
		{"Authorization and x-api-key", "/", []string{"Authorization", "Bearer " + a, "X-Api-Key", b}},
		{"Authorization and api-key", "/", []string{"Authorization", "Bearer " + a, "Api-Key", b}},
		{"Authorization and x-goog-api-key", "/", []string{"Authorization", "Bearer " + a, "X-Goog-Api-Key", b}},
		{"Authorization and ?key=", "/?key=" + b, []string{"Authorization", "Bearer " + a}},
		{"two ?key= values", "/?key=" + a + "&KEY=" + b, nil},
		{"Bearer and Basic of one string", "/", []string{"Authorization", "Bearer " + a, "Authorization", "Basic " + a}},
		{"two schemes", "/", []string{"Authorization", "Basic " + a, "Authorization", "Token " + a}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Credential(credentialRequest(tt.target, tt.header...))
			if err != ErrConflictingCredentials || got != "" {
				t.Fatalf("Credential = %q, %v; want ErrConflictingCredentials", got, err)
			}
		})
	}
}

// BenchmarkCredential: the credential is read on every request that a
// cache with scope key or a zone with the default key sees.
func BenchmarkCredential(b *testing.B) {
	for _, bc := range []struct {
		name   string
		target string
		header []string
	}{
		{"bearer", "/v1/chat/completions", []string{"Authorization", "Bearer sk-proj-0123456789abcdefghij"}},
		{"x-api-key", "/v1/messages", []string{"X-Api-Key", "sk-ant-api03-0123456789abcdefghij", "Anthropic-Version", "2023-06-01"}},
		{"basic", "/v1/chat/completions", []string{"Authorization", "Basic dXNlcjpwYXNzd29yZA=="}},
		{"query", "/v1beta/models/gemini-2.0-flash:generateContent?alt=sse&key=AIzaSyA0123456789abcdefghij", nil},
		{"query percent-encoded", "/v1beta/models/gemini-2.0-flash:generateContent?key=AIzaSyA%2D0123456789abcdefghij", nil},
		{"none", "/v1/chat/completions", []string{"Content-Type", "application/json"}},
	} {
		r := credentialRequest(bc.target, bc.header...)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Credential(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestCredentialOfAProvenIdentity: an identity a gateway proved is the
// credential, whatever headers come with it, and no header passes for it.
func TestCredentialOfAProvenIdentity(t *testing.T) {
	r := credentialRequest("/v1/chat/completions", "X-Api-Key", "made-up", "Authorization", "Bearer other")
	r = r.WithContext(WithIdentity(r.Context(), "k1"))
	got, err := Credential(r)
	if err != nil || got != identityPrefix+"k1" {
		t.Fatalf("Credential = %q, %v", got, err)
	}
	// No header value may hold the NUL the prefix starts with, but a
	// percent-encoded query parameter may.
	for _, target := range []string{"/?key=%00identity:k1", "/?key=%00%00identity:k1"} {
		spoof, _ := Credential(credentialRequest(target))
		if spoof == got || !strings.HasSuffix(spoof, "identity:k1") {
			t.Fatalf("%s: credential %q passes for the identity %q", target, spoof, got)
		}
	}
}

func TestBearerToken(t *testing.T) {
	for _, tc := range []struct {
		v, token string
		ok       bool
	}{
		{"Bearer k", "k", true}, {"bearer\tk", "k", true}, {"  BEARER   k  ", "k", true},
		{"Bearer", "", true}, {"Bearer ", "", true}, {"Basic k", "", false}, {"k", "", false}, {"", "", false},
		{"Bearerk", "", false},
	} {
		if token, ok := BearerToken(tc.v); token != tc.token || ok != tc.ok {
			t.Errorf("BearerToken(%q) = %q, %v; want %q, %v", tc.v, token, ok, tc.token, tc.ok)
		}
	}
}

// TestWithoutKeyParams: every parameter Credential reads as a key goes,
// whatever its spelling; the others stay as they were sent.
func TestWithoutKeyParams(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"a=1&b=%2F", "a=1&b=%2F"},
		{"key=k", ""},
		{"KEY=k&a=1&Key=k2&%6Bey=k3&k%65y&keep=key", "a=1&keep=key"},
		{"a=1;key=k", "a=1;key=k"}, // one parameter to Credential, and to Go's server: not a key
		{"keys=1&monkey=2", "keys=1&monkey=2"},
	} {
		if got := WithoutKeyParams(tc.in); got != tc.want {
			t.Errorf("WithoutKeyParams(%q) = %q, want %q", tc.in, got, tc.want)
		}
		r := credentialRequest("/?" + WithoutKeyParams(tc.in))
		if c, err := Credential(r); c != "" || err != nil {
			t.Errorf("after WithoutKeyParams(%q), Credential reads %q, %v", tc.in, c, err)
		}
	}
}
