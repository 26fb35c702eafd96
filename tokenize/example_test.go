package tokenize_test

import (
	"fmt"
	"log"
	"slices"

	"github.com/l3m/l3m-engine/data"
	"github.com/l3m/l3m-engine/tokenize"
)

func ExampleLoad() {
	tok, err := tokenize.Load("../testdata/tokenizers/llama2")
	if err != nil {
		log.Fatal(err)
	}
	ids, err := tok.Encode("Hello world", true)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ids, tok.VocabSize(), tok.BOS(), tok.EOS())
	fmt.Printf("%q\n", tok.Decode(ids, true))
	// Output:
	// [1 22557 1526] 32000 1 2
	// "Hello world"
}

func ExampleChatTemplate_Encoder() {
	tok, err := tokenize.Load("../testdata/tokenizers/llama2")
	if err != nil {
		log.Fatal(err)
	}
	template := tokenize.Llama2Template()
	example := data.Example{
		Prompt: []data.Message{
			{Role: data.RoleSystem, Content: "Be brief."},
			{Role: data.RoleUser, Content: "What is FTP?"},
		},
		Response: "File Transfer Protocol.",
	}
	prompt, err := template.Render(example.Prompt)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q\n", prompt)

	seq, err := template.Encoder(tok)(example)
	if err != nil {
		log.Fatal(err)
	}
	first := slices.Index(seq.LossMask, true)
	fmt.Printf("%d ids, loss on the last %d: %q\n", len(seq.IDs), len(seq.IDs)-first, tok.Decode(seq.IDs[first:], false))
	// Output:
	// "[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nWhat is FTP? [/INST]"
	// 32 ids, loss on the last 5: "File Transfer Protocol.</s>"
}

func ExamplePlainTemplate() {
	template := tokenize.PlainTemplate()
	prompt, err := template.Render([]data.Message{
		{Role: data.RoleSystem, Content: "Be brief."},
		{Role: data.RoleUser, Content: "What is FTP?"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(prompt + "File Transfer Protocol.</s>")
	// Output:
	// <|system|>
	// Be brief.
	// <|user|>
	// What is FTP?
	// <|assistant|>
	// File Transfer Protocol.</s>
}
