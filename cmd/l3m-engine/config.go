package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/alecthomas/kong"
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

// writeResolvedConfig saves the settings a run used, as a config file that --config reads.
func writeResolvedConfig(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
