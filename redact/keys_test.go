package redact

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// fake returns n made-up key characters from alphabet, the same for the same
// seed: realistic shapes without any real key in the sources.
func fake(seed string, n int, alphabet string) string {
	sum := sha256.Sum256([]byte(seed))
	out := make([]byte, n)
	for i := range out {
		if i%32 == 0 && i > 0 {
			sum = sha256.Sum256(sum[:])
		}
		out[i] = alphabet[int(sum[i%32])%len(alphabet)]
	}
	return string(out)
}

const (
	alnum    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	keyChars = alnum + "_-"
)

// Made-up keys in the shapes of the providers' keys.
var (
	keyLegacy   = "sk-" + fake("legacy1", 20, alnum) + "T3BlbkFJ" + fake("legacy2", 20, alnum)
	keyProj     = "sk-proj-" + fake("proj1", 30, keyChars) + "T3BlbkFJ" + fake("proj2", 36, keyChars)
	keySvcacct  = "sk-svcacct-" + fake("svc1", 40, keyChars) + "T3BlbkFJ" + fake("svc2", 40, keyChars)
	keyAdmin    = "sk-admin-" + fake("adm1", 40, keyChars) + "T3BlbkFJ" + fake("adm2", 40, keyChars)
	keyAnt      = "sk-ant-api03-" + fake("ant", 93, keyChars) + "AA"
	keyAntAdmin = "sk-ant-admin01-" + fake("antadm", 93, keyChars) + "AA"
	keyAntOAuth = "sk-ant-oat01-" + fake("oat", 93, keyChars) + "AA"
	keyAntRefr  = "sk-ant-ort01-" + fake("ort", 93, keyChars) + "AA"
	keyLiteLLM  = "sk-" + fake("litellm", 22, keyChars)
	keyBifrost  = "sk-bf-" + fake("bifrost", 32, alnum)
	keyGoogle   = "AIza" + fake("google", 35, keyChars)
	keyAzure    = fake("azure", 32, "0123456789abcdef")
	keyGroq     = "gsk_" + fake("groq", 52, alnum)
	tokenJWT    = "eyJhbGciOiJIUzI1NiJ9." + fake("jwt1", 40, keyChars) + "." + fake("jwt2", 43, keyChars)
	tokenOpaque = fake("opaque", 40, alnum)
)

// allKeys lists the secrets with the prefix each keeps visible.
var allKeys = []struct {
	name, key, keep string
}{
	{"legacy", keyLegacy, "sk-"},
	{"proj", keyProj, "sk-proj-"},
	{"svcacct", keySvcacct, "sk-svcacct-"},
	{"admin", keyAdmin, "sk-admin-"},
	{"anthropic", keyAnt, "sk-ant-api03-"},
	{"anthropic-admin", keyAntAdmin, "sk-ant-admin01-"},
	{"anthropic-oauth", keyAntOAuth, "sk-ant-oat01-"},
	{"anthropic-refresh", keyAntRefr, "sk-ant-ort01-"},
	{"litellm", keyLiteLLM, "sk-"},
	{"bifrost", keyBifrost, "sk-"},
	{"google", keyGoogle, "AIza"},
	{"groq", keyGroq, "gsk_"},
}

// fp is the fingerprint the scrubber gives secret.
func fp(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:2])
}

// red is the replacement of secret keeping its first keep bytes.
func red(secret, keep string) string {
	return keep + "[REDACTED:" + fp(secret) + "]"
}

// assertGone fails when out holds a 12-byte run of secret outside its
// visible prefix.
func assertGone(t *testing.T, out []byte, secret, keep string) {
	t.Helper()
	for i := 0; i+12 <= len(secret); i++ {
		if i+12 <= len(keep) {
			continue
		}
		if w := secret[i : i+12]; bytes.Contains(out, []byte(w)) {
			t.Fatalf("secret run %q survived in %s", w, out)
		}
	}
}
