package store

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	defaultRedisPrefix = "default"
	defaultWaitTimeout = time.Second
)

// redisConn is how to reach Redis: exactly one of the fields is set.
type redisConn struct {
	single   *redis.Options
	failover *redis.FailoverOptions
	cluster  *redis.ClusterOptions
}

func (c redisConn) client() redis.UniversalClient {
	switch {
	case c.failover != nil:
		return redis.NewFailoverClient(c.failover)
	case c.cluster != nil:
		return redis.NewClusterClient(c.cluster)
	}
	return redis.NewClient(c.single)
}

// parseRedisURL turns one of hikyaku's Redis URLs into connection and store options:
//
//	redis://[user:pass@]host:port/db
//	rediss://[user:pass@]host:port/db
//	redis-sentinel://[user:pass@]host1:26379,host2:26379/<master-name>[/db]
//	redis-cluster://[user:pass@]host1:7000,host2:7001
//
// Each takes ?prefix=, ?wait=N and ?wait_timeout=500ms; any other query
// parameter is go-redis's (dial_timeout, pool_size, ...). Sentinel takes
// ?sentinel_password= for the sentinels; the userinfo is the master's.
// Errors never contain the URL's password.
func parseRedisURL(raw string) (redisConn, RedisOptions, error) {
	var opt RedisOptions
	var none redisConn
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return none, opt, fmt.Errorf("store: redis URL has no scheme")
	}
	// Split by hand: url.Parse rejects comma-separated host lists.
	authority, pathQuery := rest, ""
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		authority, pathQuery = rest[:i], rest[i:]
	}
	var user *url.Userinfo
	hosts := authority
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		u, err := url.Parse("x://" + authority[:i] + "@x")
		if err != nil {
			return none, opt, fmt.Errorf("store: redis URL has malformed user info")
		}
		user, hosts = u.User, authority[i+1:]
	}
	path, rawQuery, _ := strings.Cut(pathQuery, "?")
	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		return none, opt, fmt.Errorf("store: redis URL query: %w", err)
	}
	if opt, err = takeStoreOptions(query); err != nil {
		return none, opt, err
	}
	redacted := redactedURL(scheme, hosts, user, path)

	switch scheme {
	case "redis", "rediss":
		u := url.URL{Scheme: scheme, User: user, Host: hosts, Path: path, RawQuery: query.Encode()}
		o, err := redis.ParseURL(u.String())
		if err != nil {
			return none, opt, fmt.Errorf("store: redis URL %s: %w", redacted, err)
		}
		return redisConn{single: o}, opt, nil

	case "redis-sentinel":
		addrs := splitHosts(hosts, "26379")
		parts := strings.FieldsFunc(path, func(r rune) bool { return r == '/' })
		if len(parts) == 0 || len(parts) > 2 {
			return none, opt, fmt.Errorf("store: redis URL %s: want /<master-name>[/db] after the sentinels", redacted)
		}
		query.Set("master_name", parts[0])
		if len(parts) == 2 {
			query.Set("db", parts[1])
		}
		// go-redis reads the sentinels' credentials from the userinfo and the
		// master's from the query; hikyaku's URL has the master's in the userinfo.
		var sentinelUser *url.Userinfo
		if p := query.Get("sentinel_password"); p != "" {
			sentinelUser = url.UserPassword("", p)
			query.Del("sentinel_password")
		}
		if user != nil {
			if name := user.Username(); name != "" {
				query.Set("username", name)
			}
			if p, ok := user.Password(); ok {
				query.Set("password", p)
			}
		}
		for _, a := range addrs[1:] {
			query.Add("addr", a)
		}
		u := url.URL{Scheme: "redis", User: sentinelUser, Host: addrs[0], RawQuery: query.Encode()}
		o, err := redis.ParseFailoverURL(u.String())
		if err != nil {
			return none, opt, fmt.Errorf("store: redis URL %s: %w", redacted, err)
		}
		return redisConn{failover: o}, opt, nil

	case "redis-cluster":
		if path != "" && path != "/" {
			return none, opt, fmt.Errorf("store: redis URL %s: Cluster has no database path", redacted)
		}
		addrs := splitHosts(hosts, "6379")
		for _, a := range addrs[1:] {
			query.Add("addr", a)
		}
		u := url.URL{Scheme: "redis", User: user, Host: addrs[0], RawQuery: query.Encode()}
		o, err := redis.ParseClusterURL(u.String())
		if err != nil {
			return none, opt, fmt.Errorf("store: redis URL %s: %w", redacted, err)
		}
		return redisConn{cluster: o}, opt, nil
	}
	return none, opt, fmt.Errorf("store: unsupported store URL scheme %q (want redis, rediss, redis-sentinel or redis-cluster)", scheme)
}

// takeStoreOptions removes hikyaku's own parameters from q, leaving go-redis's.
func takeStoreOptions(q url.Values) (RedisOptions, error) {
	opt := RedisOptions{Prefix: q.Get("prefix")}
	if strings.ContainsAny(opt.Prefix, "{}") {
		return opt, fmt.Errorf("store: redis URL prefix %q must not contain braces (it is the Cluster hash tag)", opt.Prefix)
	}
	if v := q.Get("wait"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return opt, fmt.Errorf("store: redis URL wait=%q: want a number of replicas", v)
		}
		opt.Wait = n
	}
	if v := q.Get("wait_timeout"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return opt, fmt.Errorf("store: redis URL wait_timeout=%q: want a positive duration such as 500ms", v)
		}
		opt.WaitTimeout = d
	}
	for _, k := range []string{"prefix", "wait", "wait_timeout"} {
		q.Del(k)
	}
	return opt, nil
}

// splitHosts splits a comma-separated host list, adding defaultPort where a host has none.
func splitHosts(hosts, defaultPort string) []string {
	var out []string
	for h := range strings.SplitSeq(hosts, ",") {
		if h = strings.TrimSpace(h); h == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(h); err != nil {
			h = net.JoinHostPort(strings.Trim(h, "[]"), defaultPort)
		}
		out = append(out, h)
	}
	if len(out) == 0 {
		out = append(out, net.JoinHostPort("localhost", defaultPort))
	}
	return out
}

// redactedURL is the URL for error messages: password masked, query dropped
// (sentinel_password lives there).
func redactedURL(scheme, hosts string, user *url.Userinfo, path string) string {
	auth := ""
	if user != nil {
		auth = user.Username()
		if _, ok := user.Password(); ok {
			auth += ":xxxxx"
		}
		auth += "@"
	}
	return scheme + "://" + auth + hosts + path
}
