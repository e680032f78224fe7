// Package units holds the value types shared by llmgate's configuration:
// durations that accept days ("30d"), byte sizes that accept "256MiB", and
// rates such as "60/m". Each one reads the same text from a Caddyfile token
// and from a JSON string, so both configuration forms mean the same thing.
package units
