package store

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseRedisURLSingle(t *testing.T) {
	conn, opt, err := parseRedisURL("redis://u:s3cret@db.example:6380/2?prefix=prod&wait=1&wait_timeout=250ms&dial_timeout=2s")
	if err != nil {
		t.Fatal(err)
	}
	o := conn.single
	if o == nil || o.Addr != "db.example:6380" || o.DB != 2 || o.Username != "u" || o.Password != "s3cret" || o.DialTimeout != 2*time.Second || o.TLSConfig != nil {
		t.Fatalf("options = %+v", o)
	}
	if opt != (RedisOptions{Prefix: "prod", Wait: 1, WaitTimeout: 250 * time.Millisecond}) {
		t.Fatalf("store options = %+v", opt)
	}
	conn, _, err = parseRedisURL("rediss://db.example:6380")
	if err != nil || conn.single == nil || conn.single.TLSConfig == nil {
		t.Fatalf("rediss:// = %+v, %v; want TLS", conn.single, err)
	}
}

func TestParseRedisURLSentinel(t *testing.T) {
	conn, opt, err := parseRedisURL("redis-sentinel://app:m%40ster@s1:26379,s2,[::1]:26380/mymaster/3?prefix=p&sentinel_password=sp&dial_timeout=1s")
	if err != nil {
		t.Fatal(err)
	}
	o := conn.failover
	if o == nil || o.MasterName != "mymaster" || o.DB != 3 || o.Username != "app" || o.Password != "m@ster" || o.SentinelPassword != "sp" ||
		o.DialTimeout != time.Second || !slices.Equal(o.SentinelAddrs, []string{"s1:26379", "s2:26379", "[::1]:26380"}) {
		t.Fatalf("failover options = %+v", o)
	}
	if opt.Prefix != "p" {
		t.Fatalf("prefix = %q", opt.Prefix)
	}
	if conn, _, err = parseRedisURL("redis-sentinel://s1/mymaster"); err != nil || conn.failover.DB != 0 || conn.failover.SentinelPassword != "" {
		t.Fatalf("minimal sentinel URL = %+v, %v", conn.failover, err)
	}
}

func TestParseRedisURLCluster(t *testing.T) {
	conn, _, err := parseRedisURL("redis-cluster://:pw@c1:7000,c2:7001,c3?wait=2")
	if err != nil {
		t.Fatal(err)
	}
	o := conn.cluster
	if o == nil || !slices.Equal(o.Addrs, []string{"c1:7000", "c2:7001", "c3:6379"}) || o.Password != "pw" {
		t.Fatalf("cluster options = %+v", o)
	}
}

func TestParseRedisURLRejects(t *testing.T) {
	for _, bad := range []string{
		"mysql://u:s3cret@host/db",
		"redis://u:s3cret@host/0?wait=many",
		"redis://u:s3cret@host/0?wait_timeout=0",
		"redis://u:s3cret@host/0?bogus=1",
		"redis://u:s3cret@host/notadb",
		"redis-sentinel://u:s3cret@s1",
		"redis-sentinel://u:s3cret@s1/m/0/extra",
		"redis-sentinel://u:s3cret@s1/m?bogus=1",
		"redis-cluster://u:s3cret@c1/3",
		"redis://u:s3cret@host/0?prefix=a{b}",
		"redis//u:s3cret@host",
	} {
		_, _, err := parseRedisURL(bad)
		if err == nil {
			t.Errorf("%s: no error", bad)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: error leaks the password: %v", bad, err)
		}
	}
}
