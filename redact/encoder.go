package redact

import (
	"go.uber.org/zap/buffer"
	"go.uber.org/zap/zapcore"
)

var bufferPool = buffer.NewPool()

// encoder scrubs every entry its inner encoder writes. The embedded Encoder
// takes the fields of logger.With (AddString and the rest); they are part of
// the encoded entry, so they are scrubbed with it.
type encoder struct {
	zapcore.Encoder
	s *Scrubber
}

// NewEncoder returns a zapcore.Encoder that encodes with inner and then
// scrubs the whole encoded entry with s (the built-in rules when s is nil):
// message, fields, nested objects and stack traces alike. An entry with no
// secret is passed on as inner encoded it, without a copy.
func NewEncoder(inner zapcore.Encoder, s *Scrubber) zapcore.Encoder {
	return &encoder{Encoder: inner, s: s}
}

// Clone copies the encoder, still scrubbing.
func (e *encoder) Clone() zapcore.Encoder {
	return &encoder{Encoder: e.Encoder.Clone(), s: e.s}
}

// AddObject adds a field to the encoder, as logger.With does; a probe of
// CountEncoders is counted instead, as reaching a scrubbing encoder.
func (e *encoder) AddObject(key string, m zapcore.ObjectMarshaler) error {
	if p, ok := m.(*probe); ok {
		p.scrubbing++
		return nil
	}
	return e.Encoder.AddObject(key, m)
}

// EncodeEntry encodes with the inner encoder, then scrubs the result.
func (e *encoder) EncodeEntry(ent zapcore.Entry, fields []zapcore.Field) (*buffer.Buffer, error) {
	buf, err := e.Encoder.EncodeEntry(ent, fields)
	if err != nil || buf == nil {
		return buf, err
	}
	out := bufferPool.Get()
	// Scrub into the spare capacity of the pooled buffer; Write then takes
	// the result in place (or copies it once, while the pool's buffers grow
	// to the size of the lines).
	scrubbed, changed := e.s.Bytes(out.Bytes(), buf.Bytes())
	if !changed {
		out.Free()
		return buf, nil
	}
	_, _ = out.Write(scrubbed)
	buf.Free()
	return out, nil
}
