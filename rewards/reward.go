package rewards

import (
	"fmt"
	"math"

	"github.com/l3m/l3m-engine/data"
)

// Sample is one sampled response to score.
type Sample struct {
	Prompt      string         // the rendered prompt text
	Messages    []data.Message // the prompt's dialogue, which learned rewards render with their own template
	Response    string         // the decoded response text
	ResponseIDs []int32        // the response's policy tokens, EOS included when it was produced
}

// Reward scores responses. Score returns one finite score per sample, in order; names
// identify rewards, so two rewards with the same name must score alike.
type Reward interface {
	Name() string
	Score(samples []Sample) ([]float64, error)
}

// Negate is r with every score negated, named "-" + r.Name(): the reward an upper bound
// constrains from below. Negate(Negate(r)) is r.
func Negate(r Reward) Reward {
	if n, ok := r.(negated); ok {
		return n.Reward
	}
	return negated{r}
}

// negated is a reward with its scores' signs flipped.
type negated struct{ Reward }

func (n negated) Name() string { return "-" + n.Reward.Name() }

func (n negated) Score(samples []Sample) ([]float64, error) {
	scores, err := n.Reward.Score(samples)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(scores))
	for i, s := range scores {
		out[i] = -s
	}
	return out, nil
}

// named is a reward known under a binding's name rather than its own.
type named struct {
	name string
	Reward
}

func (n named) Name() string { return n.name }

// ScoreAll scores samples with each reward: scores[i][j] is rewards[i] on samples[j]. A
// reward is run once however often it appears, negated or not (constraints such as
// length>=50 and length<=100 share one scoring, which matters for learned rewards that
// cost a forward pass). A reward that fails, returns the wrong number of scores or a
// non-finite score is an error naming the reward and the sample.
func ScoreAll(rewards []Reward, samples []Sample) ([][]float64, error) {
	byName := make(map[string][]float64)
	out := make([][]float64, len(rewards))
	for i, r := range rewards {
		base, sign := r, 1.0
		if n, ok := r.(negated); ok {
			base, sign = n.Reward, -1
		}
		scores, ok := byName[base.Name()]
		if !ok {
			var err error
			if scores, err = checkedScores(base, samples); err != nil {
				return nil, err
			}
			byName[base.Name()] = scores
		}
		out[i] = make([]float64, len(scores))
		for j, s := range scores {
			out[i][j] = sign * s
		}
	}
	return out, nil
}

// checkedScores runs r and validates what it returns.
func checkedScores(r Reward, samples []Sample) ([]float64, error) {
	scores, err := r.Score(samples)
	if err != nil {
		return nil, fmt.Errorf("reward %q: %w", r.Name(), err)
	}
	if len(scores) != len(samples) {
		return nil, fmt.Errorf("reward %q: %d scores for %d samples", r.Name(), len(scores), len(samples))
	}
	for j, s := range scores {
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return nil, fmt.Errorf("reward %q: sample %d: score is %v; rewards must be finite", r.Name(), j, s)
		}
	}
	return scores, nil
}
