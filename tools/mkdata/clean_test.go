package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStripBraces(t *testing.T) {
	tests := []struct {
		name, in, want string
		refs           []string
	}{
		{"plain reference", "a {Unix} {kernel}", "a Unix kernel", []string{"Unix", "kernel"}},
		{"shown text and target", "has been {standardised (standard)} as {ANSI C}", "has been standardised as ANSI C", []string{"standard", "ANSI C"}},
		{"link with text", "see {the FAQ (http://example.org/faq.html)}", "see the FAQ", nil},
		{"bare link", "Home: {(http://example.org/)}.", "Home: .", nil},
		{"relative link", "{More about FOLDOC (about.html)}", "More about FOLDOC", nil},
		{"wrapped reference", "a {macro   preprocessor}", "a macro preprocessor", []string{"macro preprocessor"}},
		{"no braces", "nothing to do", "nothing to do", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var refs []string
			got := stripBraces(tt.in, func(target string) { refs = append(refs, target) })
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.refs, refs)
		})
	}
}

func TestParseWordNet(t *testing.T) {
	article := "dog\n" +
		"    n 1: a member of the genus Canis (probably descended from the\n" +
		"         common wolf); \"the dog barked all night\" [syn: {dog},\n" +
		"         {domestic dog}]\n" +
		"    2: metal supports for logs in a fireplace; \"the andirons were\n" +
		"       too hot to touch\" [syn: {andiron}, {firedog}, {dog-\n" +
		"       iron}]\n" +
		"    v 1: go after with the intent to catch [ant: {release}]\n"
	want := []wordNetSense{
		{
			PartOfSpeech: "noun",
			Gloss:        "a member of the genus Canis (probably descended from the common wolf)",
			Examples:     []string{"the dog barked all night"},
			Synonyms:     []string{"dog", "domestic dog"},
		},
		{
			PartOfSpeech: "noun",
			Gloss:        "metal supports for logs in a fireplace",
			Examples:     []string{"the andirons were too hot to touch"},
			Synonyms:     []string{"andiron", "firedog", "dog-iron"},
		},
		{PartOfSpeech: "verb", Gloss: "go after with the intent to catch", Antonyms: []string{"release"}},
	}
	senses := parseWordNet(article)
	assert.Equal(t, want, senses)
	assert.Equal(t, "1. (noun) A member of the genus Canis (probably descended from the common wolf).\n"+
		"2. (noun) Metal supports for logs in a fireplace.\n"+
		"3. (verb) Go after with the intent to catch.", wordNetAnswer(senses))
	assert.Equal(t, "A hard biscuit for dogs.", wordNetAnswer(parseWordNet("dog biscuit\n    n 1: a hard biscuit for dogs\n")))
}

func TestParseFOLDOC(t *testing.T) {
	tests := []struct {
		name, article string
		paragraphs    []string
		refs          []string
		code          bool
	}{
		{
			name: "prose with tags, links, date and citation",
			article: "C\nNB\n\n" +
				"   <language> A language designed by {Dennis Ritchie} at {AT&T}\n" +
				"   {Bell Labs} ca. 1972, mail <dmr@example.com>.\n\n" +
				"   It has been {standardised (standard)} as {ANSI C}\n" +
				"   {(http://example.org/ansi)}.\n\n" +
				"   See also {ACCU}, {cxref}.\n\n" +
				"   [{Jargon File}]\n\n" +
				"   (1996-06-01)\n",
			paragraphs: []string{
				"A language designed by Dennis Ritchie at AT&T Bell Labs ca. 1972, mail.",
				"It has been standardised as ANSI C.",
			},
			refs: []string{"Dennis Ritchie", "AT&T", "Bell Labs", "standard", "ANSI C", "ACCU", "cxref"},
		},
		{
			name:       "redirect senses",
			article:    "ABP\n\n   1. <networking> {Alternating bit protocol}.\n\n   2. {Microsoft} {Address Book Provider}.\n",
			refs:       []string{"Alternating bit protocol", "Microsoft", "Address Book Provider"},
			paragraphs: nil,
		},
		{
			name: "numbered senses, pronunciation and editor queries",
			article: "zed\n\n   /zed/ <language> 1. A specification language [which one?].\n\n" +
				"   2. [Unix] A letter.\n",
			paragraphs: []string{"1. A specification language.", "2. A letter."},
		},
		{
			name: "link wrapped over a blank line",
			article: "yoda\n\n   A comparison written backwards.\n\n   [{Dodgy Coder\n   \n" +
				"(http://example.net/yoda.html)}].\n\n   (2012-01-01)\n",
			paragraphs: []string{"A comparison written backwards."},
		},
		{
			name: "link at the start of a paragraph",
			article: "tool\n\n   A tool.\n\n   {(ftp://example.org/tool.zip)}. Please ask .NET users.\n\n" +
				"   Users send e-mail. E-mail: <x@example.org>. Wait... done.\n",
			paragraphs: []string{"A tool.", "Please ask .NET users.", "Users send e-mail. Wait... done."},
		},
		{
			name:       "code sample",
			article:    "sort\n\n   For example:\n\n    sort_list :: [T] -> [T]\n",
			paragraphs: []string{"For example:"},
			code:       true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseFOLDOC(tt.article)
			assert.Equal(t, tt.paragraphs, got.Paragraphs)
			if tt.refs != nil {
				assert.Equal(t, tt.refs, got.References)
			}
			assert.Equal(t, tt.code, got.HasCode)
		})
	}
}

func TestSplitSentences(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"One. Two.", []string{"One.", "Two."}},
		{"Built ca. 1972 by D. Ritchie. It spread.", []string{"Built ca. 1972 by D. Ritchie.", "It spread."}},
		{"Use it, e.g. For loops. Done!", []string{"Use it, e.g. For loops.", "Done!"}},
		{"He said \"stop.\" Then left.", []string{"He said \"stop.\"", "Then left."}},
		{"version 1.2 is out. 3 bugs remain", []string{"version 1.2 is out.", "3 bugs remain"}},
		{"first line\nsecond line", []string{"first line", "second line"}},
		{"lower case. after a period", []string{"lower case. after a period"}},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, splitSentences(tt.in), tt.in)
	}
}

func TestCapWords(t *testing.T) {
	assert.Equal(t, "a b c.", capWords("a b c.", 3))
	assert.Equal(t, "One two. Three.", capWords("One two. Three. Four five six.", 4))
	assert.Equal(t, "One two.\nThree.", capWords("One two.\nThree. Four five.\nSix.", 4))
	assert.Equal(t, "one two three...", capWords("one two three four five.", 3))
	long := strings.Repeat("Word word word. ", 200)
	assert.LessOrEqual(t, wordCount(capWords(long, maxAnswerWords)), maxAnswerWords)
}

func TestSentenceCase(t *testing.T) {
	assert.Equal(t, "A hard biscuit.", sentenceCase("a hard biscuit"))
	assert.Equal(t, "Is it?", sentenceCase("is it?"))
	assert.Equal(t, "(of food) cooked.", sentenceCase("(of food) cooked"))
	assert.Equal(t, "a hard biscuit.", lowerFirst("A hard biscuit."))
	assert.Equal(t, "DNA strand.", lowerFirst("DNA strand."))
}

func TestHHTranscript(t *testing.T) {
	tests := []struct {
		name, question, answer, want string
	}{
		{"single line", "Define dog.", "A domestic animal.", "\n\nHuman: Define dog.\n\nAssistant: A domestic animal."},
		{"list keeps single newlines", "Define dog.", "1. (noun) A pet.\n2. (verb) Follow.", "\n\nHuman: Define dog.\n\nAssistant: 1. (noun) A pet.\n2. (verb) Follow."},
		{"blank lines cannot fake a turn", " What? ", "Para one.\n\nPara two.\n \nThree.\n", "\n\nHuman: What?\n\nAssistant: Para one.\nPara two.\nThree."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := hhTranscript(tt.question, tt.answer)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, 1, strings.Count(got, "\n\nAssistant: "))
			require.True(t, strings.HasPrefix(got, "\n\nHuman: "))
		})
	}
}

func TestPromptIDIsSHA256OfPrompt(t *testing.T) {
	assert.Equal(t, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", promptID(""))
}

// FuzzSplitSentences checks that splitting neither drops nor invents words.
func FuzzSplitSentences(f *testing.F) {
	for _, s := range []string{"One. Two.", "ca. 1972 by D. Ritchie. It", "a\nb. C", "\"stop.\" Then"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		got := strings.Fields(strings.Join(splitSentences(text), " "))
		want := strings.Fields(text)
		if len(want) == 0 {
			want = nil
		}
		if len(got) == 0 {
			got = nil
		}
		require.Equal(t, want, got)
		require.LessOrEqual(t, wordCount(capWords(text, 5)), 5)
	})
}

// FuzzParseArticles checks that malformed articles never panic the cleaners.
func FuzzParseArticles(f *testing.F) {
	f.Add("dog\n    n 1: a pet; \"ex\" [syn: {dog}]\n")
	f.Add("C\n\n   <language> {B (b)} [{x\n   \n(http://y)}].\n\n   (1996-06-01)\n")
	f.Fuzz(func(t *testing.T, article string) {
		parseWordNet(article)
		parseFOLDOC(article)
	})
}

func TestHasFOLDOCMargin(t *testing.T) {
	assert.True(t, hasFOLDOCMargin("abort\n\n   <programming> To terminate.\n"))
	assert.False(t, hasFOLDOCMargin("orphan\n\n       <Debian> A Debian package without a maintainer.\n"))
	assert.False(t, hasFOLDOCMargin("Dictionary.debian  \n\n  The following definitions\n"))
}

func TestMentions(t *testing.T) {
	tests := []struct {
		example, headword string
		want              bool
	}{
		{"his sermons benefited from a leavening of humor", "leavening", true},
		{"she was singled out for praise", "single out", true},
		{"the dog barked", "dog", true},
		{"a foul odor", "noisome", false},
		{"they packed the car", "pack", true},
		{"single file", "single out", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, mentions(tt.example, tt.headword), "%q in %q", tt.headword, tt.example)
	}
}
