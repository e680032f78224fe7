package testredis

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// client opens a plain go-redis client of the server for the harness's own
// commands; the caller closes it.
func (s *Server) client() *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr: s.Addr(), Password: s.cfg.Password,
		DialTimeout: time.Second, ReadTimeout: time.Second, MaxRetries: -1,
	})
}

// do runs one command on the server and returns its reply as text, or ""
// when the server does not answer.
func (s *Server) do(args ...any) string {
	rdb := s.client()
	defer rdb.Close()
	v, err := rdb.Do(context.Background(), args...).Result()
	if err != nil {
		return ""
	}
	return fmt.Sprint(v)
}

// running reports whether the server runs and is not frozen.
func (s *Server) running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd != nil && !s.frozen
}
