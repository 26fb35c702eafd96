// Package data streams training data from Parquet, Arrow IPC and JSONL files into the
// examples, preference pairs and padded batches the trainers consume.
//
// Data flows one way: data -> tokenize -> engine. This package knows no tokenizer: the
// tokenize package hands a Batcher an EncodeFunc.
//
// # Schemas
//
// Each file is read under one schema, detected from its columns or named in
// Options.Schema; the column names can be overridden.
//
//   - ultrachat: messages list<struct<role, content>>. One Example per conversation: a
//     random assistant turn, picked by a generator keyed by (Options.Seed, row), is the
//     response and the dialogue before it the prompt (the L3M paper's preparation).
//   - hh: chosen and rejected Anthropic HH-RLHF transcripts. Both are split with
//     SplitTranscript; their shared prompt and final responses make a Pair.
//   - prompt-chosen-rejected: a prompt (plain text, or a transcript) and two responses.
//   - prompt-response: plain text; the prompt becomes one user message.
//
// # Reading
//
// Open returns a Reader that yields the usable rows in file order, holding one decoded
// batch at a time: Options.BatchRows rows of Parquet, one record batch of an Arrow file,
// one line of JSONL. Every row carries its Position, so errors, batches and logs can name
// it. Readers, Streams and Batchers are for one goroutine at a time.
//
// # Bad input
//
// Bad rows are skipped and counted in Stats by reason (the Skip... constants); bad files
// are errors of type *Error, which names the file and, where there is one, the row or
// line. Options' documentation lists which is which.
//
// # Splits, shuffling and epochs
//
// Options.Split assigns each row to train, validation or test by a hash of its content,
// independent of read order and shuffle seed. A Stream shuffles one part with a bounded
// buffer, visiting Parquet row groups in a random order, and reshuffles every epoch with
// the seed and the epoch number.
//
// # Batches and resuming
//
// A Batcher tokenizes a Stream's examples, drops those longer than MaxTokens, and packs
// the rest into right-padded Batches with loss and attention masks. Its State (epoch and
// rows consumed) is all a checkpoint needs: Stream.Restore replays the seeded order to the
// same point, so a resumed run sees exactly the batches an uninterrupted one would.
//
// # Length grouping
//
// When lengths vary widely, most of a random batch is padding. BatchOptions.GroupBatches
// reads that many batches' worth of examples into a group, sorts them by length, cuts
// them into batches and hands those out in an order drawn from BatchOptions.Seed and the
// group's start, so batches stay random but their rows are of like length. Pairs are
// kept together and sorted by their longer side; groups end with their epoch. A grouping
// Batcher reads a group ahead of the batches it has handed out, so a checkpoint saves its
// BatchState (the group's start and how many of its batches are out) and Batcher.Restore
// resumes from it; State alone would repeat the group.
package data
