package redact

import (
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

func BenchmarkBytes(b *testing.B) {
	extra, err := New(`hf_[A-Za-z0-9]{30,}`)
	if err != nil {
		b.Fatal(err)
	}
	prose := strings.Repeat("the bearer of bad news keeps a task-list of risky key= bits; ", 64)
	cases := []struct {
		name string
		s    *Scrubber
		line string
	}{
		{"clean", Default(), accessLine("")},
		{"x-api-key", Default(), accessLine(`"X-Api-Key":["` + keyAnt + `"],`)},
		{"clean+pattern", extra, accessLine("")},
		{"query-key", Default(), strings.Replace(accessLine(""), "/v1/chat/completions", "/v1beta/models?key="+keyGoogle, 1)},
		{"prose-4KB", Default(), prose},
		{"escapes-clean", Default(), strings.Replace(accessLine(""), "/v1/chat/completions", "/v1/files?path=%2Ftmp%2Fa%20b&q=%41", 1)},
		{"escaped-key", Default(), strings.Replace(accessLine(""), "/v1/chat/completions", "/v1?m="+strings.ReplaceAll(keyProj, "-", "%2D"), 1)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			src := []byte(c.line)
			dst := make([]byte, 0, 2*len(src))
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			for b.Loop() {
				c.s.Bytes(dst[:0], src)
			}
		})
	}
}

// accessEntry logs what Caddy's access logger logs for accessLine.
func accessEntry(extra headers) (zapcore.Entry, []zapcore.Field) {
	h := headers{"User-Agent": {"curl/8.5.0"}, "Content-Type": {"application/json"}}
	for k, v := range extra {
		h[k] = v
	}
	return zapcore.Entry{
			Level: zapcore.InfoLevel, Time: time.Unix(1767225600, 123e6),
			LoggerName: "http.log.access", Message: "handled request",
		}, []zapcore.Field{
			zap.Object("request", zapcore.ObjectMarshalerFunc(func(enc zapcore.ObjectEncoder) error {
				enc.AddString("remote_ip", "203.0.113.7")
				enc.AddString("proto", "HTTP/1.1")
				enc.AddString("method", "POST")
				enc.AddString("host", "api.example.com")
				enc.AddString("uri", "/v1/chat/completions")
				return enc.AddObject("headers", h)
			})),
			zap.Int64("bytes_read", 412),
			zap.Duration("duration", 812300*time.Microsecond),
			zap.Int("size", 1873),
			zap.Int("status", 200),
			zap.Object("resp_headers", headers{"Content-Type": {"application/json"}}),
		}
}

func BenchmarkEncoder(b *testing.B) {
	cfg := zap.NewProductionEncoderConfig()
	cfg.EncodeDuration = zapcore.SecondsDurationEncoder
	inner := zapcore.NewJSONEncoder(cfg)
	cases := []struct {
		name  string
		enc   zapcore.Encoder
		extra headers
	}{
		{"inner-only/clean", inner, nil},
		{"inner-only/x-api-key", inner, headers{"X-Api-Key": {keyAnt}}},
		{"wrapped/clean", NewEncoder(inner, nil), nil},
		{"wrapped/x-api-key", NewEncoder(inner, nil), headers{"X-Api-Key": {keyAnt}}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			ent, fields := accessEntry(c.extra)
			buf, _ := c.enc.EncodeEntry(ent, fields)
			b.SetBytes(int64(buf.Len()))
			buf.Free()
			b.ReportAllocs()
			for b.Loop() {
				buf, err := c.enc.EncodeEntry(ent, fields)
				if err != nil {
					b.Fatal(err)
				}
				buf.Free()
			}
		})
	}
}

func BenchmarkAdversarial(b *testing.B) {
	for name, in := range adversarialInputs(1 << 16) {
		for _, s := range []struct {
			name string
			s    *Scrubber
		}{{"builtin", Default()}, {"extra", adversarialExtra}} {
			b.Run(name+"/"+s.name, func(b *testing.B) {
				src := []byte(in)
				b.SetBytes(int64(len(src)))
				b.ReportAllocs()
				for b.Loop() {
					s.s.Bytes(nil, src)
				}
			})
		}
	}
}
