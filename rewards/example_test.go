package rewards_test

import (
	"fmt"

	"github.com/l3m/l3m-engine/engine/lagrange"
	"github.com/l3m/l3m-engine/rewards"
)

// From flags to constraint values: bind a reward, parse the constraints, resolve and
// score them on a batch of sampled responses, and turn the batch means into the
// violations C = b' - r' that the multipliers are estimated from.
func Example() {
	var set rewards.Set
	// A learned reward would be a path (helpful=rm/helpful.onnx) opened by the engine's
	// loader; rule specs need no loader.
	if err := set.Bind("polite=regex:(?i)\\bplease\\b", nil); err != nil {
		fmt.Println(err)
		return
	}
	var constraints []lagrange.Constraint
	for _, text := range []string{"length>=3", "length<=5", "polite>=0.5"} {
		c, err := rewards.ParseConstraint(text)
		if err != nil {
			fmt.Println(err)
			return
		}
		constraints = append(constraints, c)
	}
	rs, err := set.Resolve(constraints)
	if err != nil {
		fmt.Println(err)
		return
	}
	const eos = 2
	samples := []rewards.Sample{
		{Response: "Please wait.", ResponseIDs: []int32{41, 7, 9, eos}},
		{Response: "No.", ResponseIDs: []int32{12, eos}},
	}
	scores, err := rewards.ScoreAll(rs, samples)
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, c := range constraints {
		mean := (scores[i][0] + scores[i][1]) / 2
		fmt.Printf("%-12s scores %v  mean %.1f  violation %+.1f\n", c.Name, scores[i], mean, c.Violation(mean))
	}
	// Output:
	// length>=3    scores [4 2]  mean 3.0  violation +0.0
	// length<=5    scores [4 2]  mean 3.0  violation -2.0
	// polite>=0.5  scores [1 0]  mean 0.5  violation +0.0
}

// Syntax errors point at the column.
func ExampleParseConstraint() {
	_, err := rewards.ParseConstraint("length=>50")
	fmt.Println(err)
	// Output:
	// constraint "length=>50": expected >= or <= at column 7
	//   length=>50
	//         ^
}
