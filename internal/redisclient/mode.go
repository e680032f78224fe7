package redisclient

import (
	"crypto/tls"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Mode is how a Client reaches Redis, and so which URL form it reads.
type Mode uint8

const (
	// Single is one server: redis://, rediss:// or unix:// (redis.ParseURL).
	Single Mode = iota
	// Cluster is a Redis Cluster, found through one or more of its nodes:
	// redis://host:port?addr=host2:port2&addr=… (redis.ParseClusterURL).
	Cluster
	// Sentinel is a primary and its replicas watched by Sentinel, found
	// through the sentinels: redis://sentinel:26379/db?master_name=name&
	// addr=sentinel2:26379 (redis.ParseFailoverURL). The URL's user and
	// password are the sentinels'; the query's username and password the
	// primary's.
	Sentinel
)

// String names the mode as the storage modules do.
func (m Mode) String() string {
	switch m {
	case Cluster:
		return "redis_cluster"
	case Sentinel:
		return "redis_sentinel"
	}
	return "redis"
}

// knobs points at the settings applyDefaults fills, which each of
// go-redis's option types has under the same names.
type knobs struct {
	dialTimeout, readTimeout, writeTimeout, poolTimeout *time.Duration
	poolSize, maxRetries, dialerRetries                 *int
	contextTimeout, disableIdentity                     *bool
	tls                                                 **tls.Config
	// maint is nil for a failover client, which go-redis never lets
	// negotiate maintenance notifications.
	maint **maintnotifications.Config
}

func singleKnobs(o *redis.Options) knobs {
	return knobs{&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout,
		&o.PoolSize, &o.MaxRetries, &o.DialerRetries, &o.ContextTimeoutEnabled, &o.DisableIdentity,
		&o.TLSConfig, &o.MaintNotificationsConfig}
}

func clusterKnobs(o *redis.ClusterOptions) knobs {
	return knobs{&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout,
		&o.PoolSize, &o.MaxRetries, &o.DialerRetries, &o.ContextTimeoutEnabled, &o.DisableIdentity,
		&o.TLSConfig, &o.MaintNotificationsConfig}
}

func failoverKnobs(o *redis.FailoverOptions) knobs {
	return knobs{&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout,
		&o.PoolSize, &o.MaxRetries, &o.DialerRetries, &o.ContextTimeoutEnabled, &o.DisableIdentity,
		&o.TLSConfig, nil}
}
