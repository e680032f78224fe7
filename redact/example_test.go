package redact_test

import (
	"fmt"
	"os"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/llmgate/caddy-llmgate/redact"
)

func ExampleScrubber_String() {
	s, err := redact.New(`hf_[A-Za-z0-9]{30,}`) // built-in rules plus one extra pattern
	if err != nil {
		panic(err)
	}
	fmt.Println(s.String(`GET /v1beta/models?key=AIzaSyD-made-up-key-for-the-example012 HTTP/1.1`))
	fmt.Println(s.String(`{"X-Api-Key":["sk-ant-api03-made-up-key-made-up-key-made-up-key-AA"]}`))
	fmt.Println(s.String(`Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.made-up`))
	fmt.Println(s.String(`token hf_madeupmadeupmadeupmadeupmadeup1 loaded`))
	fmt.Println(s.String(`nothing to hide in this task-list`))
	// Output:
	// GET /v1beta/models?key=AIza[REDACTED:aa5c] HTTP/1.1
	// {"X-Api-Key":["sk-ant-api03-[REDACTED:c46b]"]}
	// Authorization: Bearer [REDACTED:9b67]
	// token hf_[REDACTED:dcd9] loaded
	// nothing to hide in this task-list
}

func ExampleNewEncoder() {
	cfg := zap.NewProductionEncoderConfig()
	cfg.TimeKey = "" // keep the example's output stable
	enc := redact.NewEncoder(zapcore.NewJSONEncoder(cfg), redact.Default())
	log := zap.New(zapcore.NewCore(enc, zapcore.AddSync(os.Stdout), zap.InfoLevel))

	log.Info("upstream refused the key",
		zap.String("uri", "/v1/chat/completions"),
		zap.Strings("X-Api-Key", []string{"sk-proj-made-up-key-made-up-key-made-up-key"}),
		zap.Error(fmt.Errorf("401: Incorrect API key provided: sk-proj-made-up-key-made-up-key-made-up-key")),
	)
	// Output:
	// {"level":"info","msg":"upstream refused the key","uri":"/v1/chat/completions","X-Api-Key":["sk-proj-[REDACTED:d4ee]"],"error":"401: Incorrect API key provided: sk-proj-[REDACTED:d4ee]"}
}
