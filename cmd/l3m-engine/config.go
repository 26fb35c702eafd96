package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/alecthomas/kong"

	"github.com/l3m/l3m-engine/engine/ort"
)

// configLoader reads a JSON config file whose keys are flag names (snake_case, kebab-case
// or camelCase). Unlike kong.JSON it rejects keys that name no flag, so a typo in a config
// file is an error instead of a silently ignored setting.
func configLoader(r io.Reader) (kong.Resolver, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	inner, err := kong.JSON(strings.NewReader(string(b)))
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	return &checkedResolver{Resolver: inner, keys: keys}, nil
}

type checkedResolver struct {
	kong.Resolver
	keys map[string]json.RawMessage
}

// Validate accepts the file here: which keys are valid depends on the selected command,
// so Resolve checks them.
func (c *checkedResolver) Validate(app *kong.Application) error { return nil }

// Resolve rejects keys that match no flag of the selected command, then resolves flag.
func (c *checkedResolver) Resolve(ctx *kong.Context, parent *kong.Path, flag *kong.Flag) (any, error) {
	if err := c.checkKeys(ctx); err != nil {
		return nil, err
	}
	return c.Resolver.Resolve(ctx, parent, flag)
}

func (c *checkedResolver) checkKeys(ctx *kong.Context) error {
	known := map[string]bool{}
	for _, f := range ctx.Flags() {
		known[normKey(f.Name)] = true
	}
	var unknown []string
	for k := range c.keys {
		if !known[normKey(k)] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("config file: unknown setting(s) %s; settings are flag names such as batch_size (see --help)", strings.Join(unknown, ", "))
	}
	return nil
}

// normKey folds kebab-case, snake_case and camelCase to one form.
func normKey(s string) string {
	return strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(s))
}

// resolvedSettings are the settings a run uses, keyed as in a config file: the command's
// flags and the execution options (device and threads, which bit-exact resume needs too).
func resolvedSettings(flags any, opts ort.Options) (map[string]any, error) {
	b, err := json.Marshal(flags)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	m["device"], m["threads"] = opts.Device, opts.Threads
	return m, nil
}

// writeResolvedConfig saves the settings a run used, as a config file that --config reads.
func writeResolvedConfig(path string, settings map[string]any) error {
	b, err := json.MarshalIndent(settings, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// bookkeeping settings change where and how often a run saves and reports, not what it
// computes: a resumed run may change them freely.
var bookkeeping = map[string]bool{"out": true, "model": true, "save_every": true, "keep": true,
	"eval_every": true, "eval_batch_size": true}

// settingsChanges lists, as "key old -> new" in key order, the settings of a resumed run
// that differ from those the interrupted run saved in its run_config.json (read from
// path) and change what it computes. A missing file has nothing to compare.
func settingsChanges(path string, now map[string]any) ([]string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var before map[string]any
	if err := json.Unmarshal(b, &before); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	show := func(v any, ok bool) string {
		if !ok {
			return "(unset)"
		}
		b, _ := json.Marshal(v)
		return string(b)
	}
	var changes []string
	for _, k := range slices.Sorted(maps.Keys(now)) {
		old, had := before[k]
		if was, is := show(old, had), show(now[k], true); !bookkeeping[k] && was != is {
			changes = append(changes, fmt.Sprintf("%s %s -> %s", k, was, is))
		}
	}
	return changes, nil
}
