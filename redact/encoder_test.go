package redact

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/buffer"
	"go.uber.org/zap/zapcore"
)

// newTestLogger returns a production-style JSON logger writing through the
// scrubbing encoder into a buffer.
func newTestLogger(s *Scrubber) (*zap.Logger, *bytes.Buffer) {
	var out bytes.Buffer
	cfg := zap.NewProductionEncoderConfig()
	enc := NewEncoder(zapcore.NewJSONEncoder(cfg), s)
	core := zapcore.NewCore(enc, zapcore.AddSync(&out), zapcore.DebugLevel)
	return zap.New(core, zap.AddStacktrace(zapcore.ErrorLevel)), &out
}

type headers map[string][]string

func (h headers) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	for k, v := range h {
		_ = enc.AddArray(k, zapcore.ArrayMarshalerFunc(func(a zapcore.ArrayEncoder) error {
			for _, s := range v {
				a.AppendString(s)
			}
			return nil
		}))
	}
	return nil
}

func TestEncoderThroughZap(t *testing.T) {
	log, out := newTestLogger(nil)
	child := log.With(zap.String("client_key", "Bearer "+tokenOpaque))
	child.Info("calling upstream with "+keyProj,
		zap.Object("headers", headers{"X-Api-Key": {keyAnt}, "Authorization": {"Bearer " + keyLegacy}}),
		zap.String("uri", "/v1beta/models?key="+keyGoogle),
		zap.Error(fmt.Errorf("upstream said: Incorrect API key provided: %s", keySvcacct)),
		zap.Any("nested", map[string]any{"deep": []string{"x-api-key: " + keyAzure}}),
	)
	child.Error("boom", zap.Strings("keys", []string{keyAntAdmin, keyLiteLLM}))
	log.Named("sub").Info("no secret here", zap.Int("n", 1))

	lines := splitLines(t, out.Bytes())
	if len(lines) != 3 {
		t.Fatalf("want 3 lines, got %d:\n%s", len(lines), out.Bytes())
	}
	for _, l := range lines {
		if !json.Valid(l) {
			t.Fatalf("line is not JSON: %s", l)
		}
	}
	all := out.Bytes()
	for _, k := range allKeys {
		assertGone(t, all, k.key, k.keep)
	}
	assertGone(t, all, keyAzure, "")
	assertGone(t, all, tokenOpaque, "")
	if !bytes.Contains(lines[1], []byte(`"stacktrace":`)) {
		t.Fatalf("error line lost its stack trace: %s", lines[1])
	}
	if !bytes.Contains(lines[2], []byte(`"msg":"no secret here"`)) {
		t.Fatalf("plain line changed: %s", lines[2])
	}
}

func TestEncoderCloneKeepsScrubbing(t *testing.T) {
	enc := NewEncoder(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), Default())
	enc.AddString("token", "Bearer "+tokenOpaque)
	clone := enc.Clone()
	if _, ok := clone.(*encoder); !ok {
		t.Fatalf("Clone returned %T", clone)
	}
	buf, err := clone.EncodeEntry(zapcore.Entry{Message: "m"}, []zapcore.Field{zap.String("k", keyProj)})
	if err != nil {
		t.Fatal(err)
	}
	defer buf.Free()
	got := buf.String()
	if strings.Contains(got, tokenOpaque) || strings.Contains(got, keyProj[8:]) {
		t.Fatalf("clone leaked: %s", got)
	}
}

// errEncoder fails every entry, to check that errors pass through.
type errEncoder struct{ zapcore.Encoder }

func (errEncoder) EncodeEntry(zapcore.Entry, []zapcore.Field) (*buffer.Buffer, error) {
	return nil, errors.New("encode failed")
}

func TestEncoderPassesErrors(t *testing.T) {
	inner := zapcore.NewJSONEncoder(zapcore.EncoderConfig{})
	enc := NewEncoder(errEncoder{inner}, nil)
	if _, err := enc.EncodeEntry(zapcore.Entry{}, nil); err == nil {
		t.Fatal("inner error lost")
	}
}

func splitLines(t *testing.T, b []byte) [][]byte {
	t.Helper()
	var lines [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, append([]byte(nil), sc.Bytes()...))
	}
	return lines
}

func TestCountEncoders(t *testing.T) {
	json := func() zapcore.Encoder { return zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()) }
	core := func(enc zapcore.Encoder) zapcore.Core {
		return zapcore.NewCore(enc, zapcore.AddSync(&bytes.Buffer{}), zapcore.DebugLevel)
	}
	scrubbing, plain := core(NewEncoder(json(), nil)), core(json())
	cases := []struct {
		name             string
		core             zapcore.Core
		scrubbing, plain int
	}{
		{"scrubbing", scrubbing, 1, 0},
		{"plain", plain, 0, 1},
		{"console", core(zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig())), 0, 1},
		{"scrubbing twice", core(NewEncoder(NewEncoder(json(), nil), nil)), 1, 0},
		{"tee", zapcore.NewTee(scrubbing, plain, scrubbing), 2, 1},
		{"sampled", zapcore.NewSamplerWithOptions(zapcore.NewTee(scrubbing, plain), time.Second, 1, 0), 1, 1},
		{"cloned", core(NewEncoder(json(), nil).Clone()), 1, 0},
		{"after With", scrubbing.With([]zapcore.Field{zap.String("a", "b")}), 1, 0},
		{"nop", zapcore.NewNopCore(), 0, 0},
	}
	for _, c := range cases {
		s, p := CountEncoders(c.core)
		if s != c.scrubbing || p != c.plain {
			t.Errorf("%s: %d scrubbing, %d plain; want %d, %d", c.name, s, p, c.scrubbing, c.plain)
		}
	}

	// The probe leaves the core as it was: a line written afterwards
	// holds no trace of it.
	var out bytes.Buffer
	c := zapcore.NewCore(NewEncoder(json(), nil), zapcore.AddSync(&out), zapcore.DebugLevel)
	CountEncoders(c)
	zap.New(c).Info("after")
	if strings.Contains(out.String(), "probe") {
		t.Fatalf("probe reached the log: %s", out.String())
	}
}
