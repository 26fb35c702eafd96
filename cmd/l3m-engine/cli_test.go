package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// binary is the l3m-engine command built once for these tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "l3m-cli-test")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "l3m-engine")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		panic(fmt.Sprintf("go build: %v\n%s", err, out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var repo = filepath.Join("..", "..")

// l3m runs the command and returns its combined output.
func l3m(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "ONNXRUNTIME_LIB="+ortLib())
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func ortLib() string {
	if p := os.Getenv("ONNXRUNTIME_LIB"); p != "" {
		return p
	}
	abs, _ := filepath.Abs(filepath.Join(repo, ".cache", "ort", "libonnxruntime.so.1"))
	return abs
}

// tinyModel writes a test-sized model with the dict-bpe tokenizer.
func tinyModel(t *testing.T, vocab int) string {
	t.Helper()
	dir := t.TempDir()
	cfg := fmt.Sprintf(`{"vocab_size": %d, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
		"num_attention_heads": 4, "num_key_value_heads": 2, "tie_word_embeddings": true, "max_position_embeddings": 256}`, vocab)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cfg.json"), []byte(cfg), 0o644))
	model := filepath.Join(dir, "model")
	out, err := l3m(t, "init", "--config", filepath.Join(dir, "cfg.json"), "--out", model, "--seed", "5",
		"--tokenizer", filepath.Join(repo, "testdata", "tokenizers", "dict-bpe"))
	require.NoError(t, err, out)
	return model
}

func fileSHA(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

var trainData = filepath.Join(repo, "testdata", "data", "dict_instruct.parquet")

func fitArgs(model, out string, extra ...string) []string {
	return append([]string{"fit", "--model", model, "--train", trainData, "--out", out, "--threads", "1",
		"--batch-size", "8", "--micro-batch-size", "4", "--lr", "3e-3", "--max-tokens", "96", "--max-steps", "30",
		"--save-every", "1", "--keep", "2", "--eval-batch-size", "32"}, extra...)
}

// TestFitSIGKILLResumeIsBitIdentical kills a fit with SIGKILL mid-training, resumes it and
// checks the final weights are byte-identical to an uninterrupted run with the same seed,
// for SFT and for L3M (whose checkpoints also carry mu, the EMAs, the multipliers, the
// prompt stream and the sampler's RNG).
func TestFitSIGKILLResumeIsBitIdentical(t *testing.T) {
	model := tinyModel(t, 4096)
	for _, method := range [][]string{
		{"--method", "sft"},
		{"--method", "l3m", "--constraint", "length>=6", "--constraint", "length<=10", "--max-new-tokens", "12", "--samples", "4"},
	} {
		t.Run(method[1], func(t *testing.T) {
			straight := t.TempDir()
			out, err := l3m(t, fitArgs(model, straight, method...)...)
			require.NoError(t, err, out)
			want := fileSHA(t, filepath.Join(straight, "final", "model.safetensors"))

			killed := t.TempDir()
			cmd := exec.Command(binary, fitArgs(model, killed, method...)...)
			cmd.Env = append(os.Environ(), "ONNXRUNTIME_LIB="+ortLib())
			require.NoError(t, cmd.Start())
			waitForCheckpoint(t, killed, 3)
			require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
			cmd.Wait()
			_, err = os.Stat(filepath.Join(killed, "final"))
			require.True(t, os.IsNotExist(err), "the killed run must not have finished")

			out, err = l3m(t, fitArgs(model, killed, append(method, "--resume")...)...)
			require.NoError(t, err, out)
			require.Equal(t, want, fileSHA(t, filepath.Join(killed, "final", "model.safetensors")), "resumed run differs from the uninterrupted one")
			// metrics.jsonl holds each step once.
			steps := map[int]int{}
			f, err := os.Open(filepath.Join(killed, "metrics.jsonl"))
			require.NoError(t, err)
			defer f.Close()
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				var rec struct {
					Step int
					Kind string
				}
				require.NoError(t, json.Unmarshal(sc.Bytes(), &rec))
				if rec.Kind != "eval" {
					steps[rec.Step]++
				}
			}
			for s := 1; s <= 30; s++ {
				require.Equal(t, 1, steps[s], "step %d in metrics.jsonl", s)
			}
		})
	}
}

// waitForCheckpoint polls dir until a finished checkpoint of step minStep or later exists.
// It matches any such step, not one name: with --keep 2 a given checkpoint lives for only
// two steps, which a fast machine can finish between two polls.
func waitForCheckpoint(t *testing.T, dir string, minStep int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		names, _ := filepath.Glob(filepath.Join(dir, "checkpoint-*"))
		for _, name := range names {
			var step int
			if _, err := fmt.Sscanf(filepath.Base(name), "checkpoint-%d", &step); err == nil &&
				step >= minStep && !strings.HasSuffix(name, ".tmp") {
				return
			}
		}
		require.True(t, time.Now().Before(deadline), "no checkpoint of step >= %d appeared in %s", minStep, dir)
		time.Sleep(5 * time.Millisecond)
	}
}

// TestFitSIGTERMCheckpointsAndResumes sends SIGTERM mid-training: the step in flight
// finishes, a checkpoint is written, the process exits cleanly, and --resume ends with the
// same weights as an uninterrupted run.
func TestFitSIGTERMCheckpointsAndResumes(t *testing.T) {
	model := tinyModel(t, 4096)
	straight := t.TempDir()
	out, err := l3m(t, fitArgs(model, straight, "--save-every", "0")...)
	require.NoError(t, err, out)
	want := fileSHA(t, filepath.Join(straight, "final", "model.safetensors"))

	dir := t.TempDir()
	cmd := exec.Command(binary, fitArgs(model, dir)...)
	cmd.Env = append(os.Environ(), "ONNXRUNTIME_LIB="+ortLib())
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	require.NoError(t, cmd.Start())
	waitForCheckpoint(t, dir, 3)
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait(), "SIGTERM must exit cleanly")
	require.Contains(t, log.String(), "continue with --resume")
	out, err = l3m(t, fitArgs(model, dir, "--resume")...)
	require.NoError(t, err, out)
	require.Equal(t, want, fileSHA(t, filepath.Join(dir, "final", "model.safetensors")))
}

// TestResumeWarnsOnChangedSettings: a resume whose settings differ from the interrupted
// run's (its run_config.json) in what they compute says which, and not for bookkeeping ones;
// the resolved settings, device and threads included, are a config file fit accepts.
func TestResumeWarnsOnChangedSettings(t *testing.T) {
	model := tinyModel(t, 4096)
	out := t.TempDir()
	log, err := l3m(t, fitArgs(model, out, "--max-steps", "2")...)
	require.NoError(t, err, log)
	config, err := os.ReadFile(filepath.Join(out, "run_config.json"))
	require.NoError(t, err)
	require.Contains(t, string(config), `"threads": 1`)

	log, err = l3m(t, fitArgs(model, out, "--max-steps", "2", "--keep", "3", "--resume")...)
	require.NoError(t, err, log)
	require.NotContains(t, log, "differ")

	log, err = l3m(t, fitArgs(model, out, "--max-steps", "2", "--lr", "1e-3", "--threads", "2", "--resume")...)
	require.NoError(t, err, log)
	require.Contains(t, log, "warning: resuming with settings that differ from the interrupted run's")
	require.Contains(t, log, "lr 0.003 -> 0.001, threads 1 -> 2;")

	again := t.TempDir()
	log, err = l3m(t, "fit", "--config", filepath.Join(out, "run_config.json"), "--out", again, "--max-steps", "1")
	require.NoError(t, err, log)
}

// TestFitValidationPerplexityDrops trains the tiny model for 100 steps and requires the
// held-out length-normalized NLL to fall by at least 1.5 nats.
func TestFitValidationPerplexityDrops(t *testing.T) {
	model := tinyModel(t, 4096)
	out := t.TempDir()
	args := fitArgs(model, out)
	for i, a := range args {
		if a == "--max-steps" {
			args[i+1] = "100"
		}
		if a == "--save-every" {
			args[i+1] = "0"
		}
	}
	log, err := l3m(t, args...)
	require.NoError(t, err, log)
	var evals []float64
	b, err := os.ReadFile(filepath.Join(out, "metrics.jsonl"))
	require.NoError(t, err)
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec))
		if rec["kind"] == "eval" {
			evals = append(evals, rec["val_nll_mean"].(float64))
		}
	}
	require.Len(t, evals, 2)
	t.Logf("validation length-normalized NLL: %.3f -> %.3f", evals[0], evals[1])
	require.Less(t, evals[1], evals[0]-1.5)
}

func TestFitBadInput(t *testing.T) {
	model := tinyModel(t, 4096)
	small := tinyModel(t, 100)
	notDir := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(notDir, []byte("x"), 0o644))
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"missing model", fitArgs("/nonexistent/model", t.TempDir()), "--model /nonexistent/model: not a model directory"},
		{"vocab too small", fitArgs(small, t.TempDir()), "tokenizer has 4096 tokens but the model's vocab_size is 100"},
		{"bad device", fitArgs(model, t.TempDir(), "--device", "tpu"), "--device"},
		{"bad method", fitArgs(model, t.TempDir(), "--method", "dpo"), "--method"},
		{"out not writable", fitArgs(model, filepath.Join(notDir, "out")), "--out"},
		{"missing data", append(fitArgs(model, t.TempDir()), "--train", "/nonexistent.parquet"), "/nonexistent.parquet"},
		{"batch not multiple", fitArgs(model, t.TempDir(), "--batch-size", "6"), "--batch-size 6 must be a multiple of --micro-batch-size 4"},
		{"missing column", append(fitArgs(model, t.TempDir()), "--schema", "prompt-response"), `column "response" not found`},
		{"unknown reward", fitArgs(model, t.TempDir(), "--method", "l3m", "--constraint", "helpful>=0.2"), `no reward named "helpful"`},
		{"constraint syntax", fitArgs(model, t.TempDir(), "--method", "l3m", "--constraint", "length=>50"), "length=>50\n        ^"},
		{"constraint without l3m", fitArgs(model, t.TempDir(), "--constraint", "length>=5"), "--constraint needs --method l3m or mm"},
		{"l3m without constraint", fitArgs(model, t.TempDir(), "--method", "mm"), "--method mm needs at least one --constraint"},
		{"log lambda from 0", fitArgs(model, t.TempDir(), "--method", "mm", "--log-lambda", "--constraint", "length>=5"), "--log-lambda needs --lambda-init > 0"},
		{"lambda init without mm", fitArgs(model, t.TempDir(), "--method", "l3m", "--lambda-init", "1", "--constraint", "length>=5"), "--method l3m does not learn them"},
		{"reward model not a scorer", fitArgs(model, t.TempDir(), "--method", "l3m", "--reward", "helpful="+model, "--constraint", "helpful>=0.2"), "manifest.json"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := l3m(t, c.args...)
			require.Error(t, err, out)
			require.Contains(t, out, c.want)
			require.NotContains(t, out, "panic")
		})
	}
}

func TestConfigFile(t *testing.T) {
	model := tinyModel(t, 4096)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "fit.json")
	require.NoError(t, os.WriteFile(cfg, []byte(`{"max_steps": 2, "batch_size": 4, "lr": 0.001, "save_every": 0}`), 0o644))
	out := filepath.Join(dir, "out")
	log, err := l3m(t, "fit", "--config", cfg, "--model", model, "--train", trainData, "--out", out, "--micro-batch-size", "2", "--threads", "1", "--max-tokens", "64")
	require.NoError(t, err, log)
	b, err := os.ReadFile(filepath.Join(out, "run_config.json"))
	require.NoError(t, err)
	var resolved map[string]any
	require.NoError(t, json.Unmarshal(b, &resolved))
	require.Equal(t, 2.0, resolved["max_steps"])
	require.Equal(t, 2.0, resolved["micro_batch_size"], "flag overrides the file")
	require.Equal(t, 0.001, resolved["lr"])

	require.NoError(t, os.WriteFile(cfg, []byte(`{"max_stpes": 2}`), 0o644))
	log, err = l3m(t, "fit", "--config", cfg, "--model", model, "--train", trainData, "--out", out)
	require.Error(t, err)
	require.Contains(t, log, "unknown setting(s) max_stpes")
}

func TestGraphCheckAndEval(t *testing.T) {
	out, err := l3m(t, "graph", "check", "--config", filepath.Join(repo, "testdata", "configs", "dict-small.json"), "--graph", "decode", "--brief")
	require.NoError(t, err, out)
	require.Contains(t, out, "ONNX Runtime 1.31.1 loaded it")
	require.Contains(t, out, "present_key.3")
	model := tinyModel(t, 4096)
	out, err = l3m(t, "eval", "--model", model, "--data", trainData, "--max-tokens", "64", "--threads", "1")
	require.NoError(t, err, out)
	var res map[string]any
	require.NoError(t, json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &res))
	require.Greater(t, res["nll_mean"].(float64), 5.0, "an untrained model is near log(4096) = 8.3")
}

// TestFitJointVariant runs the joint (non-alternating) L3M variant: every step takes the task
// and the constraint gradient, and metrics.jsonl records them as "joint" steps with the
// multipliers.
func TestFitJointVariant(t *testing.T) {
	model := tinyModel(t, 4096)
	out := t.TempDir()
	log, err := l3m(t, fitArgs(model, out, "--method", "l3m", "--joint", "--constraint", "length<=6",
		"--max-new-tokens", "10", "--samples", "4", "--max-steps", "3", "--save-every", "0")...)
	require.NoError(t, err, log)
	b, err := os.ReadFile(filepath.Join(out, "metrics.jsonl"))
	require.NoError(t, err)
	var joint int
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var rec struct {
			Kind  string
			Extra map[string]float64
		}
		require.NoError(t, json.Unmarshal([]byte(line), &rec))
		if rec.Kind == "joint" {
			joint++
			require.Contains(t, rec.Extra, "lambda[length<=6]")
			require.Contains(t, rec.Extra, "task_grad_norm")
		}
	}
	require.Equal(t, 3, joint)
}

// TestFitMMLogLambda runs MM with log-parameterised multipliers from --lambda-init: each
// joint step's logged multiplier is the previous one times exp(lambda-lr * C_hat).
func TestFitMMLogLambda(t *testing.T) {
	model := tinyModel(t, 4096)
	out := t.TempDir()
	log, err := l3m(t, fitArgs(model, out, "--method", "mm", "--joint", "--log-lambda", "--lambda-init", "2",
		"--lambda-lr", "0.05", "--constraint", "length<=3", "--max-new-tokens", "10", "--samples", "4",
		"--max-steps", "3", "--save-every", "0")...)
	require.NoError(t, err, log)
	b, err := os.ReadFile(filepath.Join(out, "metrics.jsonl"))
	require.NoError(t, err)
	prev, steps := 2.0, 0
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var rec struct {
			Kind  string
			Extra map[string]float64
		}
		require.NoError(t, json.Unmarshal([]byte(line), &rec))
		if rec.Kind != "joint" {
			continue
		}
		steps++
		cHat, lambda := rec.Extra["c_hat[length<=3]"], rec.Extra["lambda[length<=3]"]
		require.InDelta(t, prev*math.Exp(0.05*cHat), lambda, 1e-12*lambda, "step %d", steps)
		prev = lambda
	}
	require.Equal(t, 3, steps)
	require.Greater(t, prev, 2.0, "responses of up to 10 tokens violate length<=3, so lambda grows")
}

// TestFitWarnsInfeasible: a bound no response can reach (1000 tokens with at most 8 new
// tokens) keeps C_hat positive, and the run warns that the constraint may be infeasible.
func TestFitWarnsInfeasible(t *testing.T) {
	model := tinyModel(t, 4096)
	log, err := l3m(t, fitArgs(model, t.TempDir(), "--method", "l3m", "--joint", "--constraint", "length>=1000",
		"--max-new-tokens", "8", "--samples", "2", "--max-steps", "22", "--save-every", "0")...)
	require.NoError(t, err, log)
	require.Contains(t, log, "constraint length>=1000 has been violated")
	require.Contains(t, log, "may be infeasible")
}

// TestLlama3StyleModel runs the Llama 3 path end to end on a tiny model: a config with
// llama3 rope scaling and grouped-query attention, a Llama-3 style tokenizer, the llama3
// chat template (picked by --template auto); fit under a length constraint, then generate.
func TestLlama3StyleModel(t *testing.T) {
	dir := t.TempDir()
	cfg := `{"model_type": "llama", "vocab_size": 976, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
		"num_attention_heads": 4, "num_key_value_heads": 2, "tie_word_embeddings": true, "rope_theta": 500000,
		"rope_scaling": {"rope_type": "llama3", "factor": 8, "low_freq_factor": 1, "high_freq_factor": 4,
		"original_max_position_embeddings": 64}, "hidden_act": "silu"}`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cfg.json"), []byte(cfg), 0o644))
	model := filepath.Join(dir, "model")
	out, err := l3m(t, "init", "--config", filepath.Join(dir, "cfg.json"), "--out", model,
		"--tokenizer", filepath.Join(repo, "testdata", "tokenizers", "llama3-tiny"))
	require.NoError(t, err, out)
	// An instruct model's tokenizer_config.json carries its Jinja chat template, from which
	// --template auto (the default) picks the llama3 layout.
	require.NoError(t, os.WriteFile(filepath.Join(model, "tokenizer_config.json"), []byte(`{"bos_token": "<|begin_of_text|>",
		"eos_token": "<|eot_id|>", "chat_template": "{% for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>\n\n{{ m['content'] }}<|eot_id|>{% endfor %}"}`), 0o644))

	run := filepath.Join(dir, "run")
	out, err = l3m(t, fitArgs(model, run, "--method", "l3m", "--constraint", "length<=8",
		"--max-new-tokens", "10", "--samples", "4", "--max-steps", "4")...)
	require.NoError(t, err, out)
	saved, err := os.ReadFile(filepath.Join(run, "final", "config.json"))
	require.NoError(t, err)
	require.Contains(t, string(saved), `"rope_type": "llama3"`, "the scaling survives into the trained model")

	out, err = l3m(t, "generate", "--model", filepath.Join(run, "final"),
		"--prompt", "What does 'butter' mean?", "--max-new-tokens", "6", "--threads", "1")
	require.NoError(t, err, out)
	require.Contains(t, out, `"prompt":"<|start_header_id|>user<|end_header_id|>\n\nWhat does 'butter' mean?<|eot_id|>`)
}
