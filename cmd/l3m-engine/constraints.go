package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/l3m/l3m-engine/data"
	"github.com/l3m/l3m-engine/engine"
	"github.com/l3m/l3m-engine/engine/lagrange"
	"github.com/l3m/l3m-engine/engine/ort"
	"github.com/l3m/l3m-engine/rewards"
	"github.com/l3m/l3m-engine/tokenize"
)

// ConstraintFlags configure fit --method l3m|mm (settable in the config file too).
type ConstraintFlags struct {
	Constraint   []string `sep:"none" help:"A requirement on a reward's mean over sampled responses: NAME>=NUMBER or NAME<=NUMBER (repeatable), e.g. --constraint 'length>=50' --constraint 'length<=100'." json:"constraint,omitempty"`
	Reward       []string `sep:"none" help:"Bind a reward name: NAME=SPEC with SPEC a rule (length, words, chars, regex:PATTERN, any with a leading - to negate) or the directory of an exported reward scorer (l3m-engine reward export). length counts response tokens including EOS. Rules are also usable by their own name." json:"reward,omitempty"`
	MuStart      float64  `default:"1" help:"L3M barrier parameter mu at the first step; it decays exponentially to --mu-end (s = mu^2)." json:"mu_start"`
	MuEnd        float64  `default:"1e-6" help:"L3M barrier parameter mu at the last step." json:"mu_end"`
	EMAAlpha     float64  `name:"ema-alpha" default:"0.1" help:"Rate of the moving average C_hat of each constraint's violation, which sets the multipliers." json:"ema_alpha"`
	LambdaLR     float64  `default:"0.01" help:"MM only: step size of the projected dual ascent lambda <- max(0, lambda + lambda-lr * C_hat) (with --log-lambda: lambda <- lambda * exp(lambda-lr * C_hat))." json:"lambda_lr"`
	LambdaInit   float64  `default:"0" help:"MM only: the multipliers' starting value (must be > 0 with --log-lambda)." json:"lambda_init"`
	LogLambda    bool     `help:"MM only: learn log lambda instead of lambda, so the multipliers stay positive and move in proportion to their size." json:"log_lambda"`
	Baseline     bool     `help:"Subtract the batch-mean reward instead of the bound in the policy gradient (variance reduction; the paper uses the bound)." json:"baseline"`
	Joint        bool     `help:"Take the task and the constraint gradient every step, each clipped, and add them, instead of the paper's fair coin." json:"joint"`
	Samples      int      `default:"0" help:"Prompts sampled per constraint step (0: --batch-size)." json:"samples"`
	MaxNewTokens int      `default:"128" help:"Cap on sampled response length (tokens, EOS included)." json:"max_new_tokens"`
	TopP         float64  `default:"0.9" help:"Nucleus sampling threshold of constraint steps." json:"top_p"`
	TopK         int      `default:"0" help:"Top-k sampling of constraint steps (0: off)." json:"top_k"`
	Temperature  float64  `default:"1" help:"Sampling temperature of constraint steps." json:"temperature"`
}

func (c *ConstraintFlags) check(method string) error {
	if method == "sft" {
		if len(c.Constraint) > 0 {
			return fmt.Errorf("--constraint needs --method l3m or mm (sft has no constraints)")
		}
		return nil
	}
	switch {
	case len(c.Constraint) == 0:
		return fmt.Errorf("--method %s needs at least one --constraint", method)
	case !(c.MuStart > 0) || !(c.MuEnd > 0) || c.MuEnd > c.MuStart:
		return fmt.Errorf("--mu-start and --mu-end must be positive with mu-end <= mu-start, got %v and %v", c.MuStart, c.MuEnd)
	case !(c.EMAAlpha > 0) || c.EMAAlpha > 1:
		return fmt.Errorf("--ema-alpha must be in (0, 1], got %v", c.EMAAlpha)
	case c.LambdaLR < 0:
		return fmt.Errorf("--lambda-lr must be >= 0, got %v", c.LambdaLR)
	case method != "mm" && (c.LogLambda || c.LambdaInit != 0):
		return fmt.Errorf("--log-lambda and --lambda-init set MM's learned multipliers; --method %s does not learn them", method)
	case c.LambdaInit < 0 || math.IsNaN(c.LambdaInit) || math.IsInf(c.LambdaInit, 0):
		return fmt.Errorf("--lambda-init must be a finite number >= 0, got %v", c.LambdaInit)
	case c.LogLambda && c.LambdaInit == 0:
		return fmt.Errorf("--log-lambda needs --lambda-init > 0 (a multiplier learned on the log scale never leaves 0), e.g. --lambda-init 1")
	case c.MaxNewTokens < 1:
		return fmt.Errorf("--max-new-tokens must be >= 1, got %d", c.MaxNewTokens)
	case !(c.TopP > 0) || c.TopP > 1:
		return fmt.Errorf("--top-p must be in (0, 1], got %v", c.TopP)
	case !(c.Temperature > 0) || math.IsInf(c.Temperature, 0):
		return fmt.Errorf("--temperature must be positive, got %v", c.Temperature)
	case c.Samples < 0 || c.TopK < 0:
		return fmt.Errorf("--samples and --top-k must be >= 0")
	}
	for _, s := range c.Constraint { // syntax first, before any model is loaded
		if _, err := rewards.ParseConstraint(s); err != nil {
			return fmt.Errorf("--constraint: %w", err)
		}
	}
	return nil
}

// parse reads the constraints and binds the rewards they name.
func (c *ConstraintFlags) parse(opts ort.Options) ([]lagrange.Constraint, []rewards.Reward, []func() error, error) {
	var cs []lagrange.Constraint
	for _, s := range c.Constraint {
		con, err := rewards.ParseConstraint(s)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("--constraint: %w", err)
		}
		cs = append(cs, con)
	}
	var set rewards.Set
	var closers []func() error
	load := func(path string) (rewards.Reward, error) {
		r, err := loadLearned(path, opts)
		if err == nil {
			closers = append(closers, r.sc.Close)
		}
		return r, err
	}
	for _, b := range c.Reward {
		if err := set.Bind(b, load); err != nil {
			return nil, nil, closers, err // Bind's errors name the flag and its value
		}
	}
	rs, err := set.Resolve(cs)
	if err != nil {
		return nil, nil, closers, fmt.Errorf("--constraint: %w", err)
	}
	used := map[string]bool{}
	for _, con := range cs {
		used[con.Reward] = true
	}
	for _, b := range c.Reward {
		name, _, _ := cutEq(b)
		if !used[name] && !used["-"+name] {
			fmt.Fprintf(os.Stderr, "warning: --reward %s is bound but no --constraint uses it\n", name)
		}
	}
	return cs, rs, closers, nil
}

func cutEq(s string) (string, string, bool) {
	for i := range s {
		if s[i] == '=' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// promptStream cycles through a data file's prompts for constraint steps.
type promptStream struct {
	s      *data.Stream
	encode data.EncodeFunc
	limit  int // longest prompt kept, in tokens
	last   []data.Example
}

func newPromptStream(path string, opt data.Options, tok *tokenize.Tokenizer, tmpl tokenize.ChatTemplate, limit int) (*promptStream, error) {
	opt.Epochs = math.MaxInt32 // cycle: constraint steps need prompts as long as the run lasts
	s, err := data.NewStream(path, opt)
	if err != nil {
		return nil, err
	}
	tmpl.MaxTokens = -1
	return &promptStream{s: s, encode: tmpl.Encoder(tok), limit: limit}, nil
}

// Next returns n prompts (skipping ones longer than the limit) and remembers their examples.
func (p *promptStream) Next(n int) ([][]int32, error) {
	p.last = p.last[:0]
	var out [][]int32
	for len(out) < n {
		ex, err := p.s.NextExample()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("prompts: the data has no usable prompt")
		}
		if err != nil {
			return nil, err
		}
		ids, err := promptIDs(p.encode, ex)
		if err != nil {
			return nil, err
		}
		if len(ids) > p.limit {
			continue
		}
		out = append(out, ids)
		p.last = append(p.last, ex)
	}
	return out, nil
}

func (p *promptStream) State() (json.RawMessage, error) { return json.Marshal(p.s.State()) }

func (p *promptStream) Restore(b json.RawMessage) error {
	var st data.State
	if err := json.Unmarshal(b, &st); err != nil {
		return err
	}
	return p.s.Restore(st)
}

// rewardFunc scores samples with the constraints' rewards (each reward once).
func rewardFunc(rs []rewards.Reward, prompts *promptStream, tok *tokenize.Tokenizer, tmpl tokenize.ChatTemplate) engine.RewardFunc {
	return func(promptIDs, responses [][]int32) ([][]float64, error) {
		samples := make([]rewards.Sample, len(responses))
		for j, resp := range responses {
			text, err := tmpl.Render(prompts.last[j].Prompt)
			if err != nil {
				return nil, err
			}
			body := resp
			if n := len(body); n > 0 && body[n-1] == tok.EOS() {
				body = body[:n-1]
			}
			samples[j] = rewards.Sample{Prompt: text, Messages: prompts.last[j].Prompt, Response: tok.Decode(body, true), ResponseIDs: resp}
		}
		return rewards.ScoreAll(rs, samples)
	}
}

// learnedReward scores responses with an exported reward scorer: its own tokenizer and
// chat template re-encode the prompt and response text, and the reward is the scorer's
// length-normalized log-likelihood of the response.
type learnedReward struct {
	name string
	sc   *engine.FrozenScorer
	enc  data.EncodeFunc
	pad  int32
}

func loadLearned(dir string, opts ort.Options) (*learnedReward, error) {
	sc, err := engine.LoadScorer(dir, opts)
	if err != nil {
		return nil, err
	}
	tok, err := tokenize.Load(dir)
	if err != nil {
		sc.Close()
		return nil, err // names dir
	}
	if tok.VocabSize() > sc.Manifest.VocabSize {
		sc.Close()
		return nil, fmt.Errorf("reward scorer %s: its tokenizer has %d tokens but its graph's vocabulary is %d; the export is inconsistent", dir, tok.VocabSize(), sc.Manifest.VocabSize)
	}
	tmpl, err := tokenize.TemplateByName(sc.Manifest.Template)
	if err != nil {
		sc.Close()
		return nil, fmt.Errorf("reward scorer %s: manifest.json: %w", dir, err)
	}
	tmpl.MaxTokens = -1
	return &learnedReward{name: filepath.Base(filepath.Clean(dir)), sc: sc, enc: tmpl.Encoder(tok), pad: max(tok.PAD(), 0)}, nil
}

func (r *learnedReward) Name() string { return r.name }

func (r *learnedReward) Score(samples []rewards.Sample) ([]float64, error) {
	seqs := make([]data.Sequence, len(samples))
	for j, s := range samples {
		seq, err := r.enc(data.Example{Prompt: s.Messages, Response: s.Response})
		if err != nil {
			return nil, fmt.Errorf("reward %s: %w", r.name, err)
		}
		if max := r.sc.Manifest.MaxTokens; max > 0 && len(seq.IDs) > max {
			cut := len(seq.IDs) - max // keep the response: drop the oldest prompt tokens
			seq.IDs, seq.LossMask = seq.IDs[cut:], seq.LossMask[cut:]
		}
		seqs[j] = seq
	}
	nll, err := r.sc.NLL(padSequences(seqs, r.pad))
	if err != nil {
		return nil, fmt.Errorf("reward %s: %w", r.name, err)
	}
	out := make([]float64, len(nll))
	for j, p := range nll {
		out[j] = -float64(p)
	}
	return out, nil
}

func (p *promptStream) Close() error { return p.s.Close() }

// infeasibility warns once per constraint when its estimated violation C_hat has stayed
// positive for many consecutive constraint steps: the bound may be out of reach.
type infeasibility struct {
	constraints []lagrange.Constraint
	patience    int
	streak      []int
	warned      []bool
}

func newInfeasibility(cs []lagrange.Constraint, steps int) *infeasibility {
	return &infeasibility{constraints: cs, patience: max(20, steps/10), streak: make([]int, len(cs)), warned: make([]bool, len(cs))}
}

func (w *infeasibility) observe(l engine.StepLog, warn func(format string, args ...any)) {
	if l.Kind == "task" {
		return
	}
	for i, c := range w.constraints {
		v, ok := l.Extra["c_hat["+c.Name+"]"]
		if !ok || v <= 0 {
			w.streak[i] = 0
			continue
		}
		w.streak[i]++
		if w.streak[i] >= w.patience && !w.warned[i] {
			w.warned[i] = true
			warn("warning: constraint %s has been violated (C_hat = %.4g) for %d constraint steps in a row; it may be infeasible with these settings (check the bound, --max-new-tokens, --lr)", c.Name, v, w.streak[i])
		}
	}
}
