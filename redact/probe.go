package redact

import "go.uber.org/zap/zapcore"

// CountEncoders reports how many of the encoders that core writes through
// scrub their lines (they were made by NewEncoder, as the outermost
// encoder) and how many do not, so a program can tell at start-up whether
// a logger could write a key in clear. It adds a field to a copy of core,
// as logger.With does, and writes nothing. A core that encodes nothing
// (zapcore.NewNopCore) counts for neither; so does an encoder that drops
// the field unseen.
func CountEncoders(core zapcore.Core) (scrubbing, plain int) {
	p := new(probe)
	core.With([]zapcore.Field{{Key: "llm_redact_probe", Type: zapcore.ObjectMarshalerType, Interface: p}})
	return p.scrubbing, p.plain
}

// probe is the field CountEncoders adds: a scrubbing encoder counts it
// without encoding it; any other encoder marshals it, which counts it as
// plain.
type probe struct{ scrubbing, plain int }

func (p *probe) MarshalLogObject(zapcore.ObjectEncoder) error {
	p.plain++
	return nil
}
