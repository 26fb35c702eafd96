package engine

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/l3m/l3m-engine/engine/lagrange"
)

// PromptSource yields prompts for constraint steps: token ids of rendered prompts that
// end where a response starts. It cycles through the data without end.
type PromptSource interface {
	Next(n int) ([][]int32, error)
	State() (json.RawMessage, error)
	Restore(json.RawMessage) error
}

// RewardFunc scores sampled responses to prompts: one row of B values per reward, in the
// order of the constraints. Rewards are raw (not negated for upper bounds).
type RewardFunc func(prompts, responses [][]int32) ([][]float64, error)

// Constrained is L3M (and its MM baseline): SFT under constraints E[r_i] >= b_i.
//
// Each optimizer step flips a fair coin (the trainer's seeded RNG): heads is a task step
// (the SFT gradient, clipped); tails is a constraint step: sample responses to a batch of
// prompts from the current policy, score every reward, update the EMA estimates C_hat_i,
// set the multipliers (L3M: lambda_i = mu / max(-C_hat_i, s) with mu decaying from
// MuStart to MuEnd and s = mu^2; MM: projected dual ascent lambda_i = max(0, lambda_i +
// eta * C_hat_i), or with LogLambda lambda_i = lambda_i * exp(eta * C_hat_i)), and take one weighted-NLL backward with
// w_j = (1/B) sum_i lambda_i (r'_ij - b'_i), whose gradient is sum_i lambda_i grad C_i
// (length-normalized policy gradient), clipped. Joint takes both every step and adds them.
type Constrained struct {
	Task        *SFT
	Train       *TrainStep
	Prompts     PromptSource
	Sampler     *Sampler
	Rewards     RewardFunc
	Constraints []lagrange.Constraint
	Mu          lagrange.MuSchedule
	DualAscent  bool    // MM: lambda by projected dual ascent instead of the barrier
	LambdaLR    float64 // MM's eta
	LambdaInit  float64 // MM's starting multipliers
	LogLambda   bool    // MM: ascend on log lambda (lambda <- lambda*exp(eta*C_hat)); needs LambdaInit > 0
	Baseline    bool    // subtract the batch mean reward instead of the bound
	Joint       bool    // task and constraint gradient every step, summed
	Samples     int     // prompts (and responses) per constraint step
	MicroBatch  int     // sequences per Run in the constraint step
	Clip        float64 // separate clipping of each gradient; <= 0 disables
	Pad         int32

	state *lagrange.State
	buf   []float32
}

// NewConstrained checks the settings and starts the multipliers; alpha is the EMA rate.
func NewConstrained(m *Constrained, alpha float64) (*Constrained, error) {
	if len(m.Constraints) == 0 {
		return nil, fmt.Errorf("engine: constrained method without constraints")
	}
	if m.Samples < 1 || m.MicroBatch < 1 {
		return nil, fmt.Errorf("engine: constraint steps need samples and a micro-batch size")
	}
	m.state = lagrange.NewState(len(m.Constraints), alpha)
	if m.DualAscent {
		if m.LambdaInit < 0 || m.LogLambda && !(m.LambdaInit > 0) {
			return nil, fmt.Errorf("engine: MM needs starting multipliers >= 0 (> 0 on the log scale), got %v", m.LambdaInit)
		}
		m.state.SetLambda(m.LambdaInit)
	}
	return m, nil
}

// Gradient computes step t's direction: a task or a constraint step (or both, Joint).
func (m *Constrained) Gradient(t int, rng *rand.PCG, grad []float32) (StepLog, error) {
	if m.Joint {
		if len(m.buf) != len(grad) {
			m.buf = make([]float32, len(grad))
		}
		task, err := m.Task.Gradient(t, rng, grad)
		if err != nil {
			return StepLog{}, err
		}
		con, err := m.constraintGradient(t, m.buf)
		if err != nil {
			return StepLog{}, err
		}
		AddScaled(grad, m.buf, 1)
		con.Kind, con.Loss = "joint", task.Loss
		con.Extra["task_grad_norm"] = task.GradNorm
		con.Sequences, con.Tokens = con.Sequences+task.Sequences, con.Tokens+task.Tokens
		return con, nil
	}
	if rand.New(rng).IntN(2) == 0 {
		log, err := m.Task.Gradient(t, rng, grad)
		if err != nil {
			return StepLog{}, err
		}
		log.Extra = m.extra(t, nil)
		return log, nil
	}
	return m.constraintGradient(t, grad)
}

// constraintGradient is one constraint step into grad.
func (m *Constrained) constraintGradient(t int, grad []float32) (StepLog, error) {
	prompts, err := m.Prompts.Next(m.Samples)
	if err != nil {
		return StepLog{}, err
	}
	responses, err := m.Sampler.Generate(prompts)
	if err != nil {
		return StepLog{}, err
	}
	raw, err := m.Rewards(prompts, responses)
	if err != nil {
		return StepLog{}, err
	}
	if len(raw) != len(m.Constraints) {
		return StepLog{}, fmt.Errorf("engine: %d reward rows for %d constraints", len(raw), len(m.Constraints))
	}
	b := len(prompts)
	signed := make([][]float64, len(raw))
	bounds := make([]float64, len(raw))
	violations := make([]float64, len(raw))
	means := make([]float64, len(raw))
	for i, c := range m.Constraints {
		if len(raw[i]) != b {
			return StepLog{}, fmt.Errorf("engine: reward of constraint %q scored %d of %d samples", c.Name, len(raw[i]), b)
		}
		signed[i] = make([]float64, b)
		for j, r := range raw[i] {
			signed[i][j] = c.Signed(r)
			means[i] += r / float64(b)
		}
		bounds[i] = c.SignedBound()
		violations[i] = c.Violation(means[i])
	}
	var lambda []float64
	switch {
	case m.DualAscent && m.LogLambda:
		lambda = m.state.LogDualAscent(violations, m.LambdaLR)
	case m.DualAscent:
		lambda = m.state.DualAscent(violations, m.LambdaLR)
	default:
		lambda = m.state.L3M(violations, m.Mu.Mu(t), m.Mu.S(t))
	}
	w := lagrange.SequenceWeights(signed, bounds, lambda, m.Baseline)

	batches, weights, length := responseBatches(prompts, responses, w, m.MicroBatch, m.Pad)
	acc, err := accumulate(m.Train, batches, func(i int, _ Batch) ([]float32, error) { return weights[i], nil }, grad)
	if err != nil {
		return StepLog{}, err
	}
	norm := clipInPlace(grad, 1, m.Clip)
	log := acc.log("constraint", m.Task.Data.Epoch(), acc.loss, norm)
	log.Extra = m.extra(t, means)
	log.Extra["response_length_mean"] = length
	log.Extra["constraint_loss"] = acc.loss
	return log, nil
}

// extra is the multiplier state of step t for the log, with batch reward means if any.
func (m *Constrained) extra(t int, means []float64) map[string]float64 {
	x := map[string]float64{"mu": m.Mu.Mu(t)}
	for i, c := range m.Constraints {
		if m.state.CHat[i].Initialized() {
			x["c_hat["+c.Name+"]"] = m.state.CHat[i].Value()
		}
		x["lambda["+c.Name+"]"] = m.state.Lambda[i]
		if means != nil {
			x["reward_mean["+c.Reward+"]"] = means[i]
		}
	}
	return x
}

// responseBatches packs prompt+response sequences (loss on the response tokens) into
// right-padded micro-batches with their weights, and returns the mean response length.
func responseBatches(prompts, responses [][]int32, w []float64, micro int, pad int32) ([]Batch, [][]float32, float64) {
	var batches []Batch
	var weights [][]float32
	total := 0
	for lo := 0; lo < len(prompts); lo += micro {
		hi := min(lo+micro, len(prompts))
		t := 0
		for j := lo; j < hi; j++ {
			t = max(t, len(prompts[j])+len(responses[j]))
		}
		b := Batch{B: hi - lo, T: t, IDs: make([]int64, (hi-lo)*t), AttentionMask: make([]int64, (hi-lo)*t), LossMask: make([]float32, (hi-lo)*t)}
		ws := make([]float32, hi-lo)
		for j := lo; j < hi; j++ {
			row := (j - lo) * t
			k := 0
			for _, id := range prompts[j] {
				b.IDs[row+k], b.AttentionMask[row+k] = int64(id), 1
				k++
			}
			for _, id := range responses[j] {
				b.IDs[row+k], b.AttentionMask[row+k], b.LossMask[row+k] = int64(id), 1, 1
				k++
			}
			for ; k < t; k++ {
				b.IDs[row+k] = int64(pad)
			}
			ws[j-lo] = float32(w[j])
			total += len(responses[j])
		}
		batches = append(batches, b)
		weights = append(weights, ws)
	}
	return batches, weights, float64(total) / float64(len(prompts))
}

// constrainedState is the method's checkpointed state.
type constrainedState struct {
	Task    json.RawMessage `json:"task"`
	Prompts json.RawMessage `json:"prompts"`
	Sampler []byte          `json:"sampler"`
	Mult    *lagrange.State `json:"multipliers"`
}

// State captures data positions, the sampler's RNG and the multipliers.
func (m *Constrained) State() (json.RawMessage, error) {
	task, err := m.Task.State()
	if err != nil {
		return nil, err
	}
	prompts, err := m.Prompts.State()
	if err != nil {
		return nil, err
	}
	sampler, err := m.Sampler.State()
	if err != nil {
		return nil, err
	}
	return json.Marshal(constrainedState{Task: task, Prompts: prompts, Sampler: sampler, Mult: m.state})
}

// Restore puts everything back as State saved it.
func (m *Constrained) Restore(raw json.RawMessage) error {
	var st constrainedState
	if err := json.Unmarshal(raw, &st); err != nil {
		return fmt.Errorf("constrained method state: %w", err)
	}
	if st.Mult == nil || len(st.Mult.CHat) != len(m.Constraints) {
		return fmt.Errorf("the checkpoint has multipliers for a different number of constraints than the %d given", len(m.Constraints))
	}
	if err := m.Task.Restore(st.Task); err != nil {
		return err
	}
	if err := m.Prompts.Restore(st.Prompts); err != nil {
		return err
	}
	if err := m.Sampler.Restore(st.Sampler); err != nil {
		return err
	}
	m.state = st.Mult
	return nil
}
