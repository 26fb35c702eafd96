package lagrange

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEMA(t *testing.T) {
	var e EMA
	assert.False(t, e.Initialized())
	assert.Equal(t, 0.0, e.Value())

	assert.Equal(t, 5.0, e.Update(5), "the first value initialises")
	assert.True(t, e.Initialized())
	assert.InDelta(t, 0.9*5+0.1*(-5), e.Update(-5), 1e-15, "default alpha 0.1")
	assert.InDelta(t, 4.0, e.Value(), 1e-15)

	half := EMA{Alpha: 0.5}
	half.Update(0)
	assert.Equal(t, 0.5, half.Update(1))
	assert.Equal(t, 0.75, half.Update(1))

	// With a constant input the average stays put: no bias towards the zero value.
	constant := EMA{}
	for range 10 {
		assert.Equal(t, -0.3, constant.Update(-0.3))
	}
}

func TestEMAJSONRoundTrip(t *testing.T) {
	for _, e := range []EMA{
		{},
		{Alpha: 0.1, value: 0.1 + 0.2, initialized: true},
		{Alpha: 1.0 / 3, value: math.SmallestNonzeroFloat64, initialized: true},
		{Alpha: 0.25, value: -1.2345678901234567e300, initialized: true},
		{value: math.Nextafter(1, 2), initialized: true},
	} {
		b, err := json.Marshal(e)
		require.NoError(t, err)
		var back EMA
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, math.Float64bits(e.Alpha), math.Float64bits(back.Alpha), "%s", b)
		assert.Equal(t, math.Float64bits(e.Value()), math.Float64bits(back.Value()), "%s", b)
		assert.Equal(t, e.Initialized(), back.Initialized(), "%s", b)
	}
	var e EMA
	assert.Error(t, json.Unmarshal([]byte(`{"value": "x"}`), &e))
}
