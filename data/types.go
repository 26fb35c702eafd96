package data

import (
	"fmt"
	"strconv"
)

// Message roles. Rows with any other role are skipped ("unknown role").
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// Message is one turn of a dialogue.
type Message struct{ Role, Content string }

// Position locates a row so that errors can point at it and a trainer can say which rows a
// batch came from.
type Position struct {
	File string
	Row  int64 // 0-based row in the file (JSONL: 0-based line); -1 for the file as a whole
}

// String formats the position as "file:row N", or just the file when Row is negative.
func (p Position) String() string {
	if p.Row < 0 {
		return p.File
	}
	return p.File + ":row " + strconv.FormatInt(p.Row, 10)
}

// Example is one (prompt, response) for supervised fine-tuning and constrained training.
type Example struct {
	Prompt   []Message
	Response string
	Pos      Position
}

// Pair is one preference pair for reward-model training.
type Pair struct {
	Prompt           []Message
	Chosen, Rejected string
	Pos              Position
}

// Sequence is a tokenized example. LossMask is true on the response tokens (and the EOS
// that ends them), so the loss never trains the model to write its prompts.
type Sequence struct {
	IDs      []int32
	LossMask []bool
}

// EncodeFunc turns an Example into a Sequence. The tokenize package provides one; data
// takes it as a function so that it never depends on a tokenizer.
type EncodeFunc func(Example) (Sequence, error)

// Error is a data problem with the place it was found, after compress/flate's ReadError:
// every error this package returns for bad input is an *Error.
type Error struct {
	Pos Position
	// Line is the 1-based line of a line-oriented file (JSONL), 0 otherwise. When set, the
	// message says "file:LINE", the form editors jump to.
	Line int64
	// Field is the column or option concerned, "" when none. Err already names it in words;
	// Field is for programs.
	Field string
	Err   error
}

func (e *Error) Error() string {
	switch {
	case e.Line > 0:
		return fmt.Sprintf("data: %s:%d: %v", e.Pos.File, e.Line, e.Err)
	case e.Pos.Row >= 0:
		return fmt.Sprintf("data: %s: row %d: %v", e.Pos.File, e.Pos.Row, e.Err)
	default:
		return fmt.Sprintf("data: %s: %v", e.Pos.File, e.Err)
	}
}

func (e *Error) Unwrap() error { return e.Err }

// fileError is an Error about a whole file.
func fileError(path, field string, err error) *Error {
	return &Error{Pos: Position{File: path, Row: -1}, Field: field, Err: err}
}
