package testcaddy

import (
	"fmt"
	"syscall"
	"testing"
)

// DeadAddr returns a loopback address, "127.0.0.1:PORT", where connections
// are refused, for an upstream (or store, or proxy) that is down. The port
// stays bound, without listening, until the test ends, so no server can be
// given it meanwhile. A port merely free a moment ago (FreePort) can be
// handed to the next listener of any process, a fake upstream of another
// test among them, which then gets the requests meant for nobody: calls
// that test never made.
func DeadAddr(t testing.TB) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	// Port 0: the kernel picks a free one. Without SO_REUSEADDR (which
	// net.Listen sets) no other socket can bind it while this one holds it.
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
}
