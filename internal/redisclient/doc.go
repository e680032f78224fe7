// Package redisclient opens the Redis connection pool that llmgate's Redis
// stores share, from a URL, with defaults fit for a gateway: every command
// either answers within a fraction of a second or fails, so a request never
// waits on an unreachable Redis, and no error or log line carries the
// password of the URL.
package redisclient
