package units

import (
	"encoding/json"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{in: "90s", want: 90 * time.Second},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "30d", want: 30 * 24 * time.Hour},
		{in: "1d12h", want: 36 * time.Hour},
		{in: "-1s", want: -time.Second},
		{in: "soon", bad: true},
		{in: "xd", bad: true},
		{in: "", bad: true},
	} {
		got, err := ParseDuration(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, bad=%v", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

func TestDurationJSON(t *testing.T) {
	var v struct{ D Duration }
	if err := json.Unmarshal([]byte(`{"D":"2h"}`), &v); err != nil || time.Duration(v.D) != 2*time.Hour {
		t.Fatalf("string form: %v %v", v.D, err)
	}
	if err := json.Unmarshal([]byte(`{"D":1000}`), &v); err != nil || time.Duration(v.D) != time.Microsecond {
		t.Fatalf("integer form: %v %v", v.D, err)
	}
	out, _ := json.Marshal(v)
	if string(out) != `{"D":"1µs"}` {
		t.Fatalf("marshal: %s", out)
	}
	if err := json.Unmarshal([]byte(`{"D":true}`), &v); err == nil {
		t.Fatal("bool accepted as a duration")
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		bad  bool
	}{
		{in: "4096", want: 4096},
		{in: "1MiB", want: 1 << 20},
		{in: "256MiB", want: 256 << 20},
		{in: "1MB", want: 1000000},
		{in: "lots", bad: true},
		{in: "-1", bad: true},
	} {
		got, err := ParseSize(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("ParseSize(%q) = %v, %v; want %v, bad=%v", tc.in, got, err, tc.want, tc.bad)
		}
	}
	var v struct{ S Size }
	if err := json.Unmarshal([]byte(`{"S":"8MiB"}`), &v); err != nil || v.S != 8<<20 {
		t.Fatalf("json string: %v %v", v.S, err)
	}
	if err := json.Unmarshal([]byte(`{"S":12}`), &v); err != nil || v.S != 12 {
		t.Fatalf("json int: %v %v", v.S, err)
	}
}
