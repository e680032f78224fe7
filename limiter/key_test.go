package limiter

import (
	"strings"
	"testing"
)

func TestKeys(t *testing.T) {
	const secret = "Bearer sk-proj-secret"
	long := strings.Repeat("x", 1000) // beyond the stack buffer
	tests := []struct {
		name string
		a, b Key
		same bool
	}{
		{"same zone and key", hashKey("z", secret), hashKey("z", secret), true},
		{"other zone", hashKey("z", secret), hashKey("y", secret), false},
		{"other key", hashKey("z", secret), hashKey("z", secret+"2"), false},
		{"long keys", hashKey("z", long), hashKey("z", long+"y"), false},
		{"zone and key do not run together", hashKey("ab", "c"), hashKey("a", "bc"), false},
	}
	for _, tt := range tests {
		if (tt.a == tt.b) != tt.same {
			t.Errorf("%s: %s vs %s", tt.name, tt.a, tt.b)
		}
	}
	if s := hashKey("z", secret).String(); len(s) != 32 || strings.Contains(s, "secret") {
		t.Errorf("stored form %q", s)
	}
}
