package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.yaml.in/yaml/v3"
)

// config is a collector configuration as a plain map, so variants and stages are small edits
// of the real files (config/collector.yaml and contrib.yaml) rather than copies of them.
type config map[string]any

// loadConfig decodes into a plain map: decoding into `config` would make every nested map a
// `config` too, which the edits below do not expect.
func loadConfig(data []byte) (config, error) {
	var c map[string]any
	if err := yaml.Unmarshal(data, &c); err != nil {
		return nil, err
	}
	return c, nil
}

// clone deep-copies through YAML, so an edit never leaks into the next run's config.
func (c config) clone() config {
	b, err := yaml.Marshal(c)
	if err != nil {
		panic(err)
	}
	out, err := loadConfig(b)
	if err != nil {
		panic(err)
	}
	return out
}

// m returns the map at a path of keys, creating it where missing (a null value, as in
// `forward:`, counts as missing).
func (c config) m(keys ...string) map[string]any {
	cur := map[string]any(c)
	for _, k := range keys {
		next, ok := cur[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[k] = next
		}
		cur = next
	}
	return cur
}

// pipeline replaces one pipeline (nil processors/exporters allowed).
func (c config) pipeline(name string, receivers, processors, exporters []string) {
	p := map[string]any{"receivers": receivers, "exporters": exporters}
	if len(processors) > 0 {
		p["processors"] = processors
	}
	c.m("service", "pipelines")[name] = p
}

// onlyPipelines drops every pipeline but the named ones.
func (c config) onlyPipelines(names ...string) {
	ps := c.m("service", "pipelines")
	for k := range ps {
		keep := false
		for _, n := range names {
			keep = keep || k == n
		}
		if !keep {
			delete(ps, k)
		}
	}
}

func (c config) write(path string) error {
	b, err := yaml.Marshal(c)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// collector is one collector process started for one run.
type collector struct {
	cmd  *exec.Cmd
	dir  string
	http string // OTLP/HTTP endpoint
	self string // self-telemetry (Prometheus) endpoint
	prom string // the prometheus exporter's endpoint (GenAI / span metrics)
	done chan error
	// stopWait is how long a SIGTERM may take (valgrind writes its counts on exit).
	stopWait time.Duration

	stopOnce sync.Once
	stopErr  error
}

// Ports are handed out below the kernel's ephemeral range (32768-60999 by default), so an
// outbound connection cannot take one between the check here and the collector's bind; each
// is handed out once per run.
const portLow, portHigh = 20000, 32767

var (
	portMu    sync.Mutex
	portNext  = portLow + (os.Getpid()*7919)%(portHigh-portLow)
	portsUsed = map[int]bool{}
)

func freePort() (string, error) {
	portMu.Lock()
	defer portMu.Unlock()
	for range portHigh - portLow {
		port := portNext
		portNext = portLow + (portNext+1-portLow)%(portHigh-portLow)
		if portsUsed[port] {
			continue
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		l, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		l.Close()
		portsUsed[port] = true
		return addr, nil
	}
	return "", fmt.Errorf("no free port left between %d and %d", portLow, portHigh)
}

// startCollector runs `bin --config cfg` in dir with free ports, through the environment
// variables both configs read (the same ones config/collector.yaml documents). With callgrind
// the collector runs under valgrind with instrumentation off until instrument(true).
func startCollector(bin, cfg, dir string, decisionWait string, samplePercent float64, callgrind bool) (*collector, error) {
	addrs := make([]string, 5)
	for i := range addrs {
		a, err := freePort()
		if err != nil {
			return nil, err
		}
		addrs[i] = a
	}
	_, selfPort, _ := net.SplitHostPort(addrs[4])
	logf, err := os.Create(filepath.Join(dir, "collector.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--config", cfg)
	wait := 90 * time.Second
	if callgrind {
		cmd = exec.Command("valgrind", "--tool=callgrind", "--instr-atstart=no",
			"--callgrind-out-file="+filepath.Join(dir, "callgrind.out"), bin, "--config", cfg)
		wait = 10 * time.Minute
	}
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(),
		"TOLLBOOTH_OTLP_HTTP="+addrs[0], "TOLLBOOTH_OTLP_GRPC="+addrs[1], "TOLLBOOTH_HEALTH="+addrs[2],
		"TOLLBOOTH_PROMETHEUS="+addrs[3], "TOLLBOOTH_SELF_METRICS_HOST=127.0.0.1",
		"TOLLBOOTH_SELF_METRICS_PORT="+selfPort, "TOLLBOOTH_OUT_DIR="+dir,
		"TOLLBOOTH_DECISION_WAIT="+decisionWait,
		"TOLLBOOTH_SAMPLE_PERCENT="+strconv.FormatFloat(samplePercent, 'f', -1, 64))
	if callgrind {
		// Go's preemption signals (SIGURG) trip an assertion in callgrind's signal handling.
		cmd.Env = append(cmd.Env, "GODEBUG=asyncpreemptoff=1")
	}
	// The collector must not outlive the harness, whatever ends it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	c := &collector{cmd: cmd, dir: dir, http: addrs[0], self: addrs[4], prom: addrs[3], done: make(chan error, 1), stopWait: wait}
	go func() { c.done <- cmd.Wait(); logf.Close() }()
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		select {
		case err := <-c.done:
			c.done <- err
			return nil, fmt.Errorf("collector exited at start (%v); see %s", err, logf.Name())
		case <-time.After(200 * time.Millisecond):
		}
		if r, err := http.Get("http://" + addrs[2] + "/"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return c, nil
			}
		}
	}
	c.stop()
	return nil, fmt.Errorf("collector not healthy after %v; see %s", wait, logf.Name())
}

// procCPU is user + system time of the whole process (every Go, cgo and Rust thread), from
// /proc/<pid>/stat, in seconds.
func procCPU(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	// After the command name: state is field 3 of stat(5), utime 14 and stime 15.
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / clockTicks, nil
}

// clockTicks is USER_HZ, 100 on every Linux the collector ships for.
const clockTicks = 100

// procHWM is the peak resident set (VmHWM) in bytes: Go heap, Rust heap and binary alike.
func procHWM(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM")
}

func (c *collector) pid() int { return c.cmd.Process.Pid }

// stop sends SIGTERM (a clean shutdown flushes the sampler and the file) and waits; after
// stopWait it kills. Calling it again returns the first answer.
func (c *collector) stop() error {
	c.stopOnce.Do(func() {
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case c.stopErr = <-c.done:
		case <-time.After(c.stopWait):
			_ = c.cmd.Process.Kill()
			<-c.done
			c.stopErr = fmt.Errorf("collector did not stop in %v: killed", c.stopWait)
		}
	})
	return c.stopErr
}

func scrape(addr string) (string, error) {
	r, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return "", err
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	return string(b), err
}

// metric sums the samples of `name` (or `name_total`) whose labels contain every `k="v"`.
func metric(text, name string, labels ...string) float64 {
	total := 0.0
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, name) {
			continue
		}
		head, val, ok := strings.Cut(line, " ")
		if i := strings.LastIndexByte(line, ' '); ok && i > 0 {
			head, val = line[:i], line[i+1:]
		}
		base, _, _ := strings.Cut(head, "{")
		if base != name && base != name+"_total" {
			continue
		}
		match := true
		for i := 0; i+1 < len(labels); i += 2 {
			match = match && strings.Contains(head, labels[i]+`="`+labels[i+1]+`"`)
		}
		if v, err := strconv.ParseFloat(val, 64); err == nil && match {
			total += v
		}
	}
	return total
}

// instrument turns callgrind's instruction counting on or off in the running collector.
func (c *collector) instrument(on bool) error {
	arg := "off"
	if on {
		arg = "on"
	}
	out, err := exec.Command("callgrind_control", "-i", arg, strconv.Itoa(c.pid())).CombinedOutput()
	if err != nil {
		return fmt.Errorf("callgrind_control: %v: %s", err, out)
	}
	return nil
}

// callgrindTotal reads the instruction count (Ir) of a callgrind output file.
func callgrindTotal(path string) (float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		// The header's `summary:` is written before counting ends; `totals:` closes the file.
		if rest, ok := strings.CutPrefix(s.Text(), "totals:"); ok {
			return strconv.ParseFloat(strings.TrimSpace(rest), 64)
		}
	}
	return 0, fmt.Errorf("%s: no totals line", path)
}
