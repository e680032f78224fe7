// Command report turns what bench/run.sh's tools print into typed records,
// and the records of a whole run into bench/RESULTS.md. run.sh starts the
// servers and the load generators; everything that parses their output,
// takes medians and ratios, checks the targets and writes the report is here.
//
// Each record command parses one tool's output file and prints its records
// as JSON lines, which run.sh appends to a file of the run's directory; a
// file that does not parse fails the run at once, not at its end:
//
//	report wrk -scenario hit -name respond -cpu-ticks 412 wrk.txt  >>DIR/wrk.jsonl
//	report hey -scenario limit -name limit -depth 1 hey.txt        >>DIR/hey.jsonl
//	report rss -scenario hit -name respond PID                     >>DIR/rss.jsonl
//	report ttfb -hit cache-hit -miss cache-miss ttfb.tsv           >DIR/ttfb.jsonl
//	report gobench gobench.txt                                     >DIR/gobench.jsonl
//
// One more command prints a plain number rather than records:
//
//	report cpu PID
//
// is the CPU time, user and system, that PID and its live children have
// used so far, in ticks of 10 ms; run.sh reads it before and after each wrk
// run and passes the difference to report wrk's -cpu-ticks.
//
// wrk's output must come from bench/lua/chat.lua (its WRKRESULT line), hey's
// is its default summary, ttfb's is bench/cmd/ttfb's, gobench's is `go test
// -bench -benchmem` over one or more packages. Then
//
//	report write -dir DIR -o bench/RESULTS.md -rounds 3 … (see -h)
//
// reads DIR's records, the request bodies, commands.txt and the servers'
// configurations run.sh left there, writes the report and prints its
// Targets to the scenarios' tables.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"time"
)

func main() {
	if err := runCommand(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

// commands are report's subcommands; each gets its own arguments.
var commands = map[string]func(args []string, stdout io.Writer) error{
	"wrk":     wrkCmd,
	"hey":     heyCmd,
	"rss":     rssCmd,
	"cpu":     cpuCmd,
	"ttfb":    ttfbCmd,
	"gobench": goBenchCmd,
	"write":   writeCmd,
}

func runCommand(args []string, stdout io.Writer) error {
	if len(args) == 0 || commands[args[0]] == nil {
		return errors.New("want a command: wrk, hey, rss, cpu, ttfb, gobench or write")
	}
	return commands[args[0]](args[1:], stdout)
}

// parseFlags parses args into fs and wants exactly nargs arguments after
// the flags.
func parseFlags(fs *flag.FlagSet, args []string, nargs int, what string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != nargs {
		return fmt.Errorf("%s: want %s after the flags", fs.Name(), what)
	}
	return nil
}

// eachLine calls f with every line of r, up to f's first error.
func eachLine(r io.Reader, f func(line string) error) error {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if err := f(sc.Text()); err != nil {
			return err
		}
	}
	return sc.Err()
}

// printJSONL writes each record as one JSON line.
func printJSONL[T any](w io.Writer, records ...T) error {
	enc := json.NewEncoder(w)
	for _, r := range records {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return nil
}

// fileCmd is the body of a record command that parses one file: fs's flags,
// then the file, parsed by parse into records that it prints.
func fileCmd[T any](fs *flag.FlagSet, args []string, stdout io.Writer, what string, parse func(io.Reader) ([]T, error)) error {
	if err := parseFlags(fs, args, 1, what); err != nil {
		return err
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	records, err := parse(f)
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	return printJSONL(stdout, records...)
}

// one adapts parse, which fills in the measurements of rec, to fileCmd:
// the record is rec, its label and other fields set by the flags.
func one[T any](rec *T, parse func(io.Reader, *T) error) func(io.Reader) ([]T, error) {
	return func(r io.Reader) ([]T, error) {
		err := parse(r, rec)
		return []T{*rec}, err
	}
}

func wrkCmd(args []string, stdout io.Writer) error {
	var w wrkRun
	fs := w.label.flagSet("wrk")
	fs.Int64Var(&w.CPUTicks, "cpu-ticks", 0, "the server's CPU time during the run, in ticks (see report cpu)")
	return fileCmd(fs, args, stdout, "wrk's output file", one(&w, parseWrk))
}

func heyCmd(args []string, stdout io.Writer) error {
	var h heyRun
	fs := h.label.flagSet("hey")
	fs.IntVar(&h.Depth, "depth", 0, "the limiter's bucket depth")
	return fileCmd(fs, args, stdout, "hey's output file", one(&h, parseHey))
}

func ttfbCmd(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("ttfb", flag.ContinueOnError)
	hit := fs.String("hit", "", "the target whose answers must be cache hits")
	miss := fs.String("miss", "", "the target whose answers must be cache misses")
	return fileCmd(fs, args, stdout, "ttfb's output file", func(r io.Reader) ([]stream, error) {
		streams, err := parseTTFB(r)
		if err == nil && *hit != "" {
			err = checkCacheStatus(streams, *hit, "hit")
		}
		if err == nil && *miss != "" {
			err = checkCacheStatus(streams, *miss, "fwd=miss")
		}
		return streams, err
	})
}

func goBenchCmd(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("gobench", flag.ContinueOnError)
	return fileCmd(fs, args, stdout, "go test -bench's output file", parseGoBench)
}

func rssCmd(args []string, stdout io.Writer) error {
	var m rss
	fs := m.label.flagSet("rss")
	if err := parseFlags(fs, args, 1, "the server's pid"); err != nil {
		return err
	}
	pid, err := strconv.Atoi(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("rss: pid %q: %w", fs.Arg(0), err)
	}
	if m.KB, err = peakRSSKB(pid); err != nil {
		return err
	}
	return printJSONL(stdout, m)
}

func cpuCmd(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("cpu", flag.ContinueOnError)
	if err := parseFlags(fs, args, 1, "the server's pid"); err != nil {
		return err
	}
	pid, err := strconv.Atoi(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("cpu: pid %q: %w", fs.Arg(0), err)
	}
	ticks, err := cpuTicks(pid)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, ticks)
	return err
}

func writeCmd(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("write", flag.ContinueOnError)
	var r run
	out := fs.String("o", "", "the report to write")
	started := fs.Int64("started", 0, "when the run started, in Unix seconds")
	caddy := fs.String("caddy-version", "", "the output of `caddy version`")
	nginx := fs.String("nginx-version", "", "the output of `nginx -v`")
	redis := fs.String("redis-version", "", "the output of `redis-server --version`")
	fs.StringVar(&r.Dir, "dir", "", "the run's directory, holding its records")
	fs.IntVar(&r.Rounds, "rounds", 0, "rounds of each scenario")
	fs.IntVar(&r.MissRounds, "miss-rounds", 0, "rounds of the miss path")
	fs.StringVar(&r.MissFilled, "miss-filled", "", "how much llm_cache's stores grew, and in how long, before the miss path's rounds")
	fs.StringVar(&r.Duration, "duration", "", "wrk's -d")
	fs.IntVar(&r.Threads, "threads", 0, "wrk's -t")
	fs.IntVar(&r.Conns, "conns", 0, "wrk's -c and hey's -c")
	fs.IntVar(&r.LimitRate, "limit-rate", 0, "the limiters' requests per second")
	fs.IntVar(&r.LimitSecs, "limit-secs", 0, "hey's -z, in seconds")
	fs.IntVar(&r.StreamN, "stream-n", 0, "ttfb's -n")
	fs.IntVar(&r.StreamChunks, "stream-chunks", 0, "events per stream")
	fs.StringVar(&r.StreamDelay, "stream-delay", "", "the time between events")
	fs.StringVar(&r.GoBenchtime, "gobenchtime", "", "go test's -benchtime")
	fs.StringVar(&r.Rev, "rev", "", "the llmgate commit measured")
	fs.StringVar(&r.Redacted, "redacted", "", "the x-api-key header as format llm_redact logged it")
	fs.StringVar(&r.Wrk, "wrk-version", "", "wrk's version")
	fs.StringVar(&r.Hey, "hey-version", "", "hey's version")
	if err := parseFlags(fs, args, 0, "nothing"); err != nil {
		return err
	}
	if *out == "" || r.Dir == "" || *started == 0 {
		return errors.New("write: need -o, -dir and -started")
	}
	r.Started = time.Unix(*started, 0)
	r.Caddy, r.Nginx, r.Redis = caddyVersion(*caddy), nginxVersion(*nginx), redisVersion(*redis)
	r.Go = runtime.Version() // run.sh builds this tool and Caddy with the same go
	results, err := readResults(r.Dir)
	if err != nil {
		return err
	}
	rep, err := newReport(r, results)
	if err != nil {
		return err
	}
	if err := rep.readRunFiles(); err != nil {
		return err
	}
	if rep.Machine, err = readMachine(); err != nil {
		return err
	}
	rep.Generated = time.Now()
	rep.Elapsed = rep.Generated.Sub(r.Started).Round(time.Second)
	text, err := rep.write(*out)
	if err != nil {
		return err
	}
	_, err = stdout.Write(summary(text))
	return err
}
