package redact

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

type stringer string

func (s stringer) String() string { return string(s) }

// encodeField writes f as a JSON object the way a log line would hold it.
func encodeField(t *testing.T, f zapcore.Field) string {
	t.Helper()
	buf, err := zapcore.NewJSONEncoder(zapcore.EncoderConfig{}).EncodeEntry(zapcore.Entry{}, []zapcore.Field{f})
	if err != nil {
		t.Fatal(err)
	}
	defer buf.Free()
	return strings.TrimSpace(buf.String())
}

func TestField(t *testing.T) {
	cases := []struct {
		name string
		in   zapcore.Field
		want string // the encoded field after scrubbing
	}{
		{"credential header, any value", zap.String("X-Api-Key", "abc"), `{"X-Api-Key":"` + red("abc", "") + `"}`},
		{"credential header array", zap.Strings("X-Api-Key", []string{keyAzure, keyAnt}),
			`{"X-Api-Key":["` + red(keyAzure, "") + `","` + red(keyAnt, "sk-ant-api03-") + `"]}`},
		{"authorization keeps scheme", zap.Strings("Authorization", []string{"Bearer " + tokenOpaque}),
			`{"Authorization":["Bearer ` + red(tokenOpaque, "") + `"]}`},
		{"uri", zap.String("uri", "/v1/x?key="+keyGoogle), `{"uri":"/v1/x?key=` + red(keyGoogle, "AIza") + `"}`},
		{"byte string", zap.ByteString("body", []byte(`{"api_key":"`+keyProj+`"}`)),
			`{"body":"{\"api_key\":\"` + red(keyProj, "sk-proj-") + `\"}"}`},
		{"error", zap.Error(errors.New("bad key " + keyProj)), `{"error":"bad key ` + red(keyProj, "sk-proj-") + `"}`},
		{"stringer", zap.Stringer("u", stringer("Bearer "+tokenJWT)), `{"u":"Bearer ` + red(tokenJWT, "") + `"}`},
		{"object", zap.Object("headers", headers{"Api-Key": {"k1"}}), `{"headers":{"Api-Key":["` + red("k1", "") + `"]}}`},
		{"reflected", zap.Any("cfg", map[string]string{"token": "Bearer " + tokenOpaque}),
			`{"cfg":{"token":"Bearer ` + red(tokenOpaque, "") + `"}}`},
		{"no secret", zap.String("uri", "/v1/models"), `{"uri":"/v1/models"}`},
		{"number", zap.Int("status", 200), `{"status":200}`},
		{"a field named key is not a credential", zap.String("key", "cache-entry-1"), `{"key":"cache-entry-1"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := encodeField(t, Default().Field(c.in))
			if got != c.want {
				t.Fatalf("\n got: %s\nwant: %s", got, c.want)
			}
			if !json.Valid([]byte(got)) {
				t.Fatal("not JSON")
			}
		})
	}
}

func TestFieldUnchangedIsSame(t *testing.T) {
	f := zap.Strings("Accept", []string{"application/json"})
	if got := Default().Field(f); !got.Equals(f) {
		t.Fatalf("field without secret changed: %+v", got)
	}
}

// verboseError formats differently with %+v, like errors that carry stacks.
type verboseError struct{ msg string }

func (e verboseError) Error() string { return e.msg }

func (e verboseError) Format(s fmt.State, verb rune) {
	if verb == 'v' && s.Flag('+') {
		_, _ = s.Write([]byte(e.msg + "\n\tat handler.go:42 with " + keyAnt))
		return
	}
	_, _ = s.Write([]byte(e.msg))
}

func TestFieldVerboseError(t *testing.T) {
	got := encodeField(t, Default().Field(zap.Error(verboseError{"denied for " + keyProj})))
	assertGone(t, []byte(got), keyProj, "sk-proj-")
	assertGone(t, []byte(got), keyAnt, "sk-ant-api03-")
	if !strings.Contains(got, `"errorVerbose":`) || !json.Valid([]byte(got)) {
		t.Fatalf("verbose form lost or broken: %s", got)
	}
}
