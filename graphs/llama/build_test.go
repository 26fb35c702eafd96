package llama

import (
	"testing"
)

func TestGraphsLoad(t *testing.T) {
	cfg := tinyConfig()
	g, err := BuildTrain(cfg, Options{})
	session(t, g, err)
	g, err = BuildScore(cfg, Options{})
	session(t, g, err)
	g, err = BuildDecode(cfg, Options{})
	session(t, g, err)
}
