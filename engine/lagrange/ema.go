package lagrange

import "encoding/json"

// DefaultAlpha is the EMA weight of the newest batch, as in the paper.
const DefaultAlpha = 0.1

// EMA is an exponential moving average, v <- (1-alpha)*v + alpha*x, initialised with the
// first value it sees (not with 0, which would bias early estimates towards "satisfied").
// The zero value is ready to use. It marshals to JSON with every float64 exactly.
type EMA struct {
	Alpha float64 // weight of the newest value [DefaultAlpha when zero]

	value       float64
	initialized bool
}

// Update folds x into the average and returns the new average.
func (e *EMA) Update(x float64) float64 {
	if !e.initialized {
		e.value, e.initialized = x, true
		return x
	}
	alpha := e.Alpha
	if alpha == 0 {
		alpha = DefaultAlpha
	}
	// (1-alpha)*v + alpha*x, in the form that leaves v unchanged, bit for bit, when x == v.
	e.value += alpha * (x - e.value)
	return e.value
}

// Value is the current average; 0 before the first Update.
func (e *EMA) Value() float64 { return e.value }

// Initialized reports whether Update has been called.
func (e *EMA) Initialized() bool { return e.initialized }

// emaJSON is the checkpoint form of an EMA. encoding/json writes float64s in their shortest
// round-tripping form, so values come back bit-exact.
type emaJSON struct {
	Alpha       float64 `json:"alpha"`
	Value       float64 `json:"value"`
	Initialized bool    `json:"initialized"`
}

// MarshalJSON writes the average's full state.
func (e EMA) MarshalJSON() ([]byte, error) {
	return json.Marshal(emaJSON{Alpha: e.Alpha, Value: e.value, Initialized: e.initialized})
}

// UnmarshalJSON restores a state MarshalJSON wrote.
func (e *EMA) UnmarshalJSON(b []byte) error {
	var w emaJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*e = EMA{Alpha: w.Alpha, value: w.Value, initialized: w.Initialized}
	return nil
}
