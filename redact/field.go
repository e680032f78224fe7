package redact

import (
	"bytes"
	"encoding/json"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// fieldEncoder writes a lone field as a one-line JSON object: `{"key":value}`.
var fieldEncoder = zapcore.NewJSONEncoder(zapcore.EncoderConfig{})

// Field returns f with the secrets in its value replaced, for encoders that
// filter field by field (Caddy's filter encoder calls such a function with
// the header "X-Api-Key" or the field "uri"). The field's key is context, as
// in a JSON log line: every string under a credential name (Authorization,
// X-Api-Key, Api-Key, Ocp-Apim-Subscription-Key, X-Auth-Token, api_key, …)
// is replaced whole; under other
// names, the secrets the rules find. A field with no secret, a number or a
// time, is returned unchanged. A scrubbed string, byte string, error or
// Stringer becomes a string field; an array, object or reflected value
// becomes a reflected field holding the scrubbed JSON. Inline fields are
// returned unchanged: their fields reach an encoder one by one.
func (s *Scrubber) Field(f zapcore.Field) zapcore.Field {
	switch f.Type {
	case zapcore.StringType, zapcore.ByteStringType, zapcore.ErrorType, zapcore.StringerType,
		zapcore.ArrayMarshalerType, zapcore.ObjectMarshalerType, zapcore.ReflectType:
	default:
		return f
	}
	buf, err := fieldEncoder.EncodeEntry(zapcore.Entry{}, []zapcore.Field{f})
	if err != nil {
		return f // the log's own encoder reports it
	}
	defer buf.Free()
	out, changed := s.Bytes(nil, buf.Bytes())
	if !changed {
		return f
	}
	fields, err := decodeFields(out)
	if err != nil || len(fields) == 0 {
		return zap.String(f.Key, marker+"]")
	}
	if len(fields) > 1 { // an error with its "Verbose" or "Causes" companions
		return zap.Inline(fields)
	}
	return fields[0].field()
}

// rawField is one member of a scrubbed JSON object.
type rawField struct {
	key   string
	value json.RawMessage
}

func (r rawField) field() zapcore.Field {
	var str string
	if len(r.value) > 0 && r.value[0] == '"' && json.Unmarshal(r.value, &str) == nil {
		return zap.String(r.key, str)
	}
	return zap.Reflect(r.key, r.value)
}

// rawFields adds scrubbed members back to an encoder, in their order.
type rawFields []rawField

func (rs rawFields) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	for _, r := range rs {
		r.field().AddTo(enc)
	}
	return nil
}

// decodeFields reads the members of the JSON object in b, in order.
func decodeFields(b []byte) (rawFields, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil { // {
		return nil, err
	}
	var fields rawFields
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, err
		}
		fields = append(fields, rawField{key: key, value: value})
	}
	return fields, nil
}
