package testcaddy

import (
	"errors"
	"net"
	"syscall"
	"testing"
)

func TestDeadAddrRefusesAndKeepsItsPort(t *testing.T) {
	addr := DeadAddr(t)
	if c, err := net.Dial("tcp", addr); !errors.Is(err, syscall.ECONNREFUSED) {
		if err == nil {
			c.Close()
		}
		t.Fatalf("dial %s: %v, want connection refused", addr, err)
	}
	// Neither a server asking for the port nor one taking any free port
	// gets it while the test holds it.
	if l, err := net.Listen("tcp", addr); err == nil {
		l.Close()
		t.Fatalf("a listener was given %s", addr)
	}
	for range 1000 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		got := l.Addr().String()
		l.Close()
		if got == addr {
			t.Fatalf("a listener on a free port was given %s", addr)
		}
	}
}
