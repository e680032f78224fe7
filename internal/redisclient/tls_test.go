package redisclient_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/llmgate/caddy-llmgate/internal/harness/testredis"
	"github.com/llmgate/caddy-llmgate/internal/redisclient"
)

func TestTLS(t *testing.T) {
	s := testredis.StartWith(t, testredis.Config{TLS: true, Password: "tls-secret"})
	pem, err := os.ReadFile(s.CertFile())
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	tests := []struct {
		name    string
		url     string
		opts    redisclient.Options
		wantErr string // empty: Ping succeeds
	}{
		{"trusted CA", s.URL(), redisclient.Options{TLSConfig: &tls.Config{RootCAs: roots}}, ""},
		{"verification skipped", s.URL() + "?skip_verify=true", redisclient.Options{}, ""},
		{"unknown CA", s.URL(), redisclient.Options{CommandTimeout: 5 * time.Second, DialTimeout: 5 * time.Second}, "certificate"},
		{"plain text to a TLS port", strings.Replace(s.URL(), "rediss://", "redis://", 1), redisclient.Options{}, "redis"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := redisclient.New(tt.url, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			err = c.Ping(context.Background())
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatal(err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("got %v, want an error about %q", err, tt.wantErr)
			case err != nil && strings.Contains(err.Error(), "tls-secret"):
				t.Fatalf("error quotes the password: %v", err)
			}
		})
	}
}

func TestTLSOptionsNeedATLSURL(t *testing.T) {
	if _, err := redisclient.New("redis://127.0.0.1:6379", redisclient.Options{TLSConfig: &tls.Config{}}); err == nil {
		t.Fatal("TLS options were accepted for redis://")
	}
}
