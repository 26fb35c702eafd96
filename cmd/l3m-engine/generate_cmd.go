package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/l3m/l3m-engine/data"
	"github.com/l3m/l3m-engine/engine"
	"github.com/l3m/l3m-engine/tokenize"
)

// GenerateCmd samples a model's responses to prompts given on the command line or read
// from a dataset.
type GenerateCmd struct {
	Model        string   `required:"" type:"path" help:"Model directory (config.json, model.safetensors, tokenizer.json)."`
	Prompt       []string `sep:"none" help:"A prompt, sent as one user message; repeat the flag for several."`
	Data         string   `type:"path" help:"Dataset file (.parquet, .arrow, .jsonl) whose prompts to answer, instead of --prompt; its responses are reported as \"reference\"."`
	Limit        int      `default:"0" help:"Answer only the first N usable rows of --data (in file order); 0 = all."`
	Part         string   `default:"all" enum:"all,train,val,test" help:"Part of --data's hash split to answer: all, or the train/val part of fit's --val-split (e.g. --part val for held-out prompts)."`
	Out          string   `type:"path" help:"Write the JSON lines to this file (atomically, once all are done) instead of stdout."`
	MaxNewTokens int      `default:"128" help:"Most tokens generated per prompt, EOS included."`
	Temperature  float64  `default:"1" help:"Softmax temperature, > 0; lower is more deterministic."`
	TopP         float64  `default:"0.9" help:"Nucleus sampling: keep the most probable tokens whose probability together reaches this, in (0, 1]; 1 keeps all."`
	TopK         int      `default:"0" help:"Keep only the K most probable tokens before --top-p; 0 = off."`
	Greedy       bool     `help:"Take the most probable token at every step; --temperature, --top-p, --top-k and --seed then do not matter."`
	Seed         uint64   `default:"1" help:"Seed of the sampling RNG (and of the UltraChat response-turn choice)."`
	BatchSize    int      `default:"8" help:"Prompts generated together."`
	DataFlags    `embed:""`
}

// Help describes the output.
func (c *GenerateCmd) Help() string {
	return "Prints one JSON object per prompt and line: \"prompt\" (as the chat template renders it), \"response\" " +
		"(decoded, special tokens left out), \"tokens\" (ids generated, EOS included), \"stopped\" (\"eos\" or \"length\") " +
		"and, with --data, \"reference\" (the dataset's response). The same prompts, --seed and --batch-size give the same output. " +
		"--max-tokens and --val-split do not apply; a prompt must fit the model's max_position_embeddings with --max-new-tokens. " +
		dataHelp
}

// request is one prompt to answer.
type request struct {
	where     string // the prompt's origin, for errors: "--prompt 2" or "file:row N"
	prompt    string // rendered by the chat template
	ids       []int32
	reference string
}

// generation is one output line.
type generation struct {
	Prompt    string `json:"prompt"`
	Response  string `json:"response"`
	Reference string `json:"reference,omitempty"`
	Tokens    int    `json:"tokens"`
	Stopped   string `json:"stopped"`
}

// Run generates.
func (c *GenerateCmd) Run(g *Globals) error {
	if err := c.check(); err != nil {
		return err
	}
	opts, m, err := g.openModel(c.Model)
	if err != nil {
		return err
	}
	eos := m.tok.EOS()
	if eos < 0 {
		return fmt.Errorf("--model %s: the tokenizer has no EOS token to end a response at", c.Model)
	}
	reqs, err := c.requests(m.tok)
	if err != nil {
		return err
	}
	if len(reqs) == 0 {
		return fmt.Errorf("--data %s: no prompts to answer", c.Data)
	}
	longest := slices.MaxFunc(reqs, func(a, b request) int { return len(a.ids) - len(b.ids) })
	maxLen := len(longest.ids) + c.MaxNewTokens
	if maxLen > m.cfg.MaxPositionEmbeddings {
		return fmt.Errorf("--max-new-tokens %d: %s has %d prompt tokens, which leaves room for %d new ones in the model's max_position_embeddings %d; lower --max-new-tokens or shorten the prompt",
			c.MaxNewTokens, longest.where, len(longest.ids), max(m.cfg.MaxPositionEmbeddings-len(longest.ids), 0), m.cfg.MaxPositionEmbeddings)
	}

	out, err := createOutput(c.Out)
	if err != nil {
		return err
	}
	defer out.discard()
	batch := min(c.BatchSize, len(reqs))
	dec, err := engine.NewDecoder(m.cfg, m.params, batch, maxLen, opts)
	if err != nil {
		return err
	}
	defer dec.Close()
	pad := max(m.tok.PAD(), 0)
	sampler := engine.NewSampler(dec, engine.SampleConfig{
		Temperature: c.Temperature, TopP: c.TopP, TopK: c.TopK, MaxNewTokens: c.MaxNewTokens,
		Greedy: c.Greedy, EOS: eos, Stop: m.tok.StopIDs(), Pad: pad, Seed: c.Seed,
	})
	enc := json.NewEncoder(out.w)
	enc.SetEscapeHTML(false)
	stopped := map[string]int{}
	for start := 0; start < len(reqs); start += batch {
		part := reqs[start:min(start+batch, len(reqs))]
		prompts := make([][]int32, len(part))
		for i, r := range part {
			prompts[i] = r.ids
		}
		responses, err := sampler.Generate(prompts)
		if err != nil {
			return fmt.Errorf("generating for %s to %s: %w", part[0].where, part[len(part)-1].where, err)
		}
		for i, ids := range responses {
			gen := generation{Prompt: part[i].prompt, Response: m.tok.Decode(ids, true),
				Reference: part[i].reference, Tokens: len(ids), Stopped: "length"}
			if slices.Contains(m.tok.StopIDs(), ids[len(ids)-1]) {
				gen.Stopped = "eos"
			}
			stopped[gen.Stopped]++
			if err := enc.Encode(gen); err != nil {
				return out.wrap(err)
			}
		}
	}
	if err := out.commit(); err != nil {
		return err
	}
	if c.Out != "" {
		fmt.Fprintf(os.Stderr, "generate: %d responses (%d ended at EOS, %d at --max-new-tokens) written to %s\n",
			len(reqs), stopped["eos"], stopped["length"], c.Out)
	}
	return nil
}

func (c *GenerateCmd) check() error {
	switch {
	case len(c.Prompt) == 0 && c.Data == "":
		return errors.New("nothing to answer: pass --prompt TEXT (repeatable) or --data FILE")
	case len(c.Prompt) > 0 && c.Data != "":
		return errors.New("--prompt and --data exclude each other; pass one of them")
	case c.Limit < 0:
		return fmt.Errorf("--limit must be >= 0, got %d", c.Limit)
	case c.Limit > 0 && c.Data == "":
		return errors.New("--limit counts rows of --data; it does not apply to --prompt")
	case c.MaxNewTokens < 1:
		return fmt.Errorf("--max-new-tokens must be >= 1, got %d", c.MaxNewTokens)
	case c.BatchSize < 1:
		return fmt.Errorf("--batch-size must be >= 1, got %d", c.BatchSize)
	case !(c.Temperature > 0) || math.IsInf(c.Temperature, 0):
		return fmt.Errorf("--temperature must be positive and finite, got %v; for argmax decoding pass --greedy", c.Temperature)
	case !(c.TopP > 0 && c.TopP <= 1):
		return fmt.Errorf("--top-p must be in (0, 1], got %v; 1 keeps every token", c.TopP)
	case c.TopK < 0:
		return fmt.Errorf("--top-k must be >= 0 (0 = off), got %d", c.TopK)
	}
	return nil
}

// requests renders and encodes the prompts of --prompt or --data.
func (c *GenerateCmd) requests(tok *tokenize.Tokenizer) ([]request, error) {
	tmpl := c.template(tok)
	tmpl.MaxTokens = -1 // Run checks prompts against the model's context instead
	encode := tmpl.Encoder(tok)
	add := func(reqs []request, where string, ex data.Example) ([]request, error) {
		text, err := tmpl.Render(ex.Prompt)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		ids, err := promptIDs(encode, ex)
		if err != nil {
			return nil, err
		}
		return append(reqs, request{where: where, prompt: text, ids: ids, reference: ex.Response}), nil
	}
	var reqs []request
	var err error
	if c.Data == "" {
		for i, p := range c.Prompt {
			where := fmt.Sprintf("--prompt %d", i+1)
			ex := data.Example{Prompt: []data.Message{{Role: data.RoleUser, Content: p}}, Pos: data.Position{File: where, Row: -1}}
			if reqs, err = add(reqs, where, ex); err != nil {
				return nil, err
			}
		}
		return reqs, nil
	}
	split := data.Split{}
	if c.Part != data.PartAll {
		split.Val = c.ValSplit
	}
	opt := c.options(c.Seed, c.Part, split)
	opt.Epochs, opt.ShuffleBuffer = 1, 1
	s, err := data.NewStream(c.Data, opt)
	if err != nil {
		return nil, fmt.Errorf("--data: %w", err)
	}
	defer s.Close()
	for c.Limit == 0 || len(reqs) < c.Limit {
		ex, err := s.NextExample()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("--data: %w", err)
		}
		if reqs, err = add(reqs, ex.Pos.String(), ex); err != nil {
			return nil, fmt.Errorf("--data: %w", err)
		}
	}
	return reqs, nil
}

// promptIDs encodes a prompt exactly as a training sequence starts: the template's Encoder
// on the prompt alone, cut where the (empty) response begins.
func promptIDs(encode data.EncodeFunc, ex data.Example) ([]int32, error) {
	seq, err := encode(data.Example{Prompt: ex.Prompt, Pos: ex.Pos})
	if err != nil {
		return nil, err
	}
	return seq.IDs[:slices.Index(seq.LossMask, true)], nil // the response's EOS is always in the loss
}

// output is where the JSON lines go: stdout as they come, or a temporary file beside --out
// that takes its name only once every line is written, so --out is never half-written.
type output struct {
	w    io.Writer
	buf  *bufio.Writer
	tmp  *os.File
	path string
}

func createOutput(path string) (*output, error) {
	if path == "" {
		return &output{w: os.Stdout}, nil
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if pe, ok := errors.AsType[*os.PathError](err); ok {
		err = pe.Err // the temporary name would only confuse
	}
	if err != nil {
		return nil, fmt.Errorf("--out %s: cannot create a file in %s: %w", path, dir, err)
	}
	buf := bufio.NewWriter(tmp)
	return &output{w: buf, buf: buf, tmp: tmp, path: path}, nil
}

func (o *output) wrap(err error) error {
	if o.tmp == nil {
		return fmt.Errorf("writing to stdout: %w", err)
	}
	return fmt.Errorf("--out %s: %w", o.path, err)
}

// commit moves a complete --out file into place.
func (o *output) commit() error {
	if o.tmp == nil {
		return nil
	}
	for _, step := range []func() error{o.buf.Flush, func() error { return o.tmp.Chmod(0o644) }, o.tmp.Sync, o.tmp.Close} {
		if err := step(); err != nil {
			return o.wrap(err)
		}
	}
	if err := os.Rename(o.tmp.Name(), o.path); err != nil {
		return o.wrap(err)
	}
	o.tmp = nil
	return nil
}

// discard removes the temporary file of a run that did not commit.
func (o *output) discard() {
	if o.tmp != nil {
		o.tmp.Close()
		os.Remove(o.tmp.Name())
	}
}
