// Replaces cmd/generate/config/utils/validate.go of the gitleaks module when
// tools/update-secret-rules.sh runs gitleaks' own rule generator (go build -overlay). Instead of
// only checking each rule's true- and false-positive examples, it writes them out, with the
// secrets gitleaks itself finds in them, as test data for Tollbooth
// (tests/fixtures/gitleaks/examples.jsonl). The functions keep the signatures the rule files
// call; everything else here is Tollbooth's.

package utils

import (
	"encoding/json"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/zricethezav/gitleaks/v8/cmd/generate/config/base"
	"github.com/zricethezav/gitleaks/v8/config"
	"github.com/zricethezav/gitleaks/v8/detect"
)

// example is one line of the output file.
type example struct {
	Rule string `json:"rule"`
	// Kind is "tp" (gitleaks must report it) or "fp" (gitleaks must not).
	Kind string `json:"kind"`
	Text string `json:"text"`
	// Path is set for the few examples that gitleaks checks together with a file path.
	Path string `json:"path,omitempty"`
	// Secrets are what the rule alone extracts from Text (gitleaks' "Secret" field).
	Secrets []string `json:"secrets"`
	// Findings are what the whole default configuration reports on Text: rule id and secret.
	Findings [][2]string `json:"findings"`
}

var (
	mu       sync.Mutex
	full     *detect.Detector
	fullOnce sync.Once
)

// wholeConfig is gitleaks' default configuration (the gitleaks.toml embedded in the module).
func wholeConfig() *detect.Detector {
	fullOnce.Do(func() {
		d, err := detect.NewDetectorDefaultConfig()
		if err != nil {
			panic("default gitleaks configuration: " + err.Error())
		}
		full = d
	})
	return full
}

// oneRule is a detector with this rule and the global allowlist only, as gitleaks checks its
// examples.
func oneRule(r *config.Rule) *detect.Detector {
	seen := map[string]struct{}{}
	var kws []string
	for _, k := range r.Keywords {
		k = strings.ToLower(k)
		if _, dup := seen[k]; !dup {
			seen[k] = struct{}{}
			kws = append(kws, k)
		}
	}
	r.Keywords = kws
	cfg := base.CreateGlobalConfig()
	cfg.Rules = map[string]config.Rule{r.RuleID: *r}
	cfg.Keywords = seen
	for _, a := range cfg.Allowlists {
		if err := a.Validate(); err != nil {
			panic("global allowlist: " + err.Error())
		}
	}
	return detect.NewDetector(cfg)
}

func record(e example) {
	out := os.Getenv("TOLLBOOTH_EXAMPLES_OUT")
	if out == "" {
		return
	}
	line, err := json.Marshal(e)
	if err != nil {
		panic(err)
	}
	mu.Lock()
	defer mu.Unlock()
	f, err := os.OpenFile(out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	if _, err := f.Write(append(line, '\n')); err != nil {
		panic(err)
	}
}

func scan(one *detect.Detector, frag detect.Fragment) ([]string, [][2]string) {
	var secrets []string
	for _, f := range one.Detect(frag) {
		secrets = append(secrets, f.Secret)
	}
	var all [][2]string
	for _, f := range wholeConfig().Detect(frag) {
		all = append(all, [2]string{f.RuleID, f.Secret})
	}
	sort.Slice(all, func(i, j int) bool { return all[i][0]+all[i][1] < all[j][0]+all[j][1] })
	return secrets, all
}

// Validate records the examples of a content rule.
func Validate(rule config.Rule, truePositives []string, falsePositives []string) *config.Rule {
	r := &rule
	one := oneRule(r)
	for _, k := range []struct {
		kind  string
		texts []string
	}{{"tp", truePositives}, {"fp", falsePositives}} {
		kind := k.kind
		for _, t := range k.texts {
			secrets, all := scan(one, detect.Fragment{Raw: t})
			record(example{Rule: r.RuleID, Kind: kind, Text: t, Secrets: secrets, Findings: all})
		}
	}
	return r
}

// ValidateWithPaths records the examples of a rule that also looks at file paths.
func ValidateWithPaths(rule config.Rule, truePositives map[string]string, falsePositives map[string]string) *config.Rule {
	r := &rule
	one := oneRule(r)
	for _, k := range []struct {
		kind  string
		texts map[string]string
	}{{"tp", truePositives}, {"fp", falsePositives}} {
		kind, texts := k.kind, k.texts
		paths := make([]string, 0, len(texts))
		for p := range texts {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		for _, p := range paths {
			secrets, all := scan(one, detect.Fragment{Raw: texts[p], FilePath: p})
			record(example{Rule: r.RuleID, Kind: kind, Text: texts[p], Path: p, Secrets: secrets, Findings: all})
		}
	}
	return r
}
