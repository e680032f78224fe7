package cache

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// control is what a request's Cache-Control asks of the cache.
type control struct {
	noStore bool          // neither read nor write
	noCache bool          // skip the lookup, store the fresh answer
	maxAge  time.Duration // accept an entry at most this old; < 0: any age
}

func parseControl(h http.Header) control {
	c := control{maxAge: -1}
	for _, v := range h.Values("Cache-Control") {
		for d := range strings.SplitSeq(v, ",") {
			d = strings.TrimSpace(d)
			name, arg, _ := strings.Cut(d, "=")
			switch strings.ToLower(name) {
			case "no-store":
				c.noStore = true
			case "no-cache":
				c.noCache = true
			case "max-age":
				if n, err := strconv.ParseUint(strings.Trim(arg, `"`), 10, 32); err == nil {
					c.maxAge = time.Duration(n) * time.Second
				}
			}
		}
	}
	return c
}
