package education

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/experience/quiz"
)

// QTI 2.1 import: one assessmentItem with one choiceInteraction becomes a
// quiz item of kind single (cardinality single) or multiple (cardinality
// multiple). The item's identifier is its external ID in the bank, so
// sending it again adds nothing. Other interactions are refused by name.
//
// The document is read token by token with encoding/xml rather than
// unmarshalled into structs: itemBody is XHTML with interactions anywhere
// in it, and a token walk finds every interaction (so an unsupported one
// nested in a <div> is still refused) and flattens mixed content to text.

// qtiItem is what the import reads from an assessmentItem.
type qtiItem struct {
	Identifier   string
	Title        string
	Cardinality  string            // of the choice interaction's response declaration
	Correct      []string          // its correctResponse values
	BodyText     string            // itemBody text outside the interaction
	Prompt       string            // the interaction's prompt
	Choices      []quiz.Option     // simpleChoice identifier and text
	Interactions []string          // every *Interaction element met
	responses    map[string]qtiRsp // responseDeclaration by identifier
	responseID   string            // the choice interaction's responseIdentifier
}

type qtiRsp struct {
	cardinality string
	correct     []string
}

// maxQTIBytes bounds an uploaded item.
const maxQTIBytes = 1 << 20

// parseQTI reads one QTI 2.1 assessmentItem.
func parseQTI(data []byte) (*qtiItem, error) {
	if len(data) > maxQTIBytes {
		return nil, errs.InvalidField("body", "is larger than 1 MB")
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	it := &qtiItem{responses: map[string]qtiRsp{}}
	var stack []string
	var text *strings.Builder // where character data goes now
	var body, prompt, choice strings.Builder
	var curChoice string
	var curRsp string
	inCorrect, inValue := false, false
	var value strings.Builder
	root := true
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, errs.InvalidField("body", fmt.Sprintf("is not well-formed XML: %v", err))
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := t.Name.Local
			attr := func(k string) string {
				for _, a := range t.Attr {
					if a.Name.Local == k {
						return a.Value
					}
				}
				return ""
			}
			if root {
				if name != "assessmentItem" {
					return nil, errs.InvalidField("body", fmt.Sprintf("must be a QTI 2.1 assessmentItem, not <%s>", name))
				}
				it.Identifier, it.Title = strings.TrimSpace(attr("identifier")), strings.TrimSpace(attr("title"))
				root = false
			}
			switch {
			case name == "responseDeclaration":
				curRsp = attr("identifier")
				it.responses[curRsp] = qtiRsp{cardinality: attr("cardinality")}
			case name == "correctResponse" && curRsp != "":
				inCorrect = true
			case name == "value" && inCorrect:
				inValue = true
				value.Reset()
			case strings.HasSuffix(name, "Interaction"):
				it.Interactions = append(it.Interactions, name)
				if name == "choiceInteraction" {
					it.responseID = attr("responseIdentifier")
				}
			case name == "prompt" && slices.Contains(stack, "choiceInteraction"):
				text = &prompt
			case name == "simpleChoice":
				curChoice = attr("identifier")
				choice.Reset()
				text = &choice
			case name == "itemBody":
				text = &body
			case name == "br" || name == "p" || name == "div" || name == "li":
				if text != nil {
					text.WriteString(" ")
				}
			}
			stack = append(stack, name)
		case xml.EndElement:
			name := t.Name.Local
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			switch name {
			case "responseDeclaration":
				curRsp = ""
			case "correctResponse":
				inCorrect = false
			case "value":
				if inValue {
					r := it.responses[curRsp]
					r.correct = append(r.correct, strings.TrimSpace(value.String()))
					it.responses[curRsp] = r
					inValue = false
				}
			case "prompt":
				if slices.Contains(stack, "choiceInteraction") {
					text = &body
				}
			case "simpleChoice":
				it.Choices = append(it.Choices, quiz.Option{ID: curChoice, Text: collapse(choice.String())})
				text = &body
			case "itemBody":
				text = nil
			case "p", "div", "li":
				if text != nil {
					text.WriteString(" ")
				}
			}
		case xml.CharData:
			switch {
			case inValue:
				value.Write(t)
			case text != nil && (text != &body || !slices.Contains(stack, "choiceInteraction")):
				text.Write(t)
			}
		}
	}
	if root {
		return nil, errs.InvalidField("body", "is empty: send a QTI 2.1 assessmentItem")
	}
	it.BodyText, it.Prompt = collapse(body.String()), collapse(prompt.String())
	if r, ok := it.responses[it.responseID]; ok {
		it.Cardinality, it.Correct = r.cardinality, r.correct
	}
	return it, nil
}

// collapse joins runs of white space into one space.
func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

// qtiToItem turns a parsed assessmentItem into a bank question, or says
// precisely what is not supported.
func qtiToItem(q *qtiItem) (BankQuestion, error) {
	var unsupported []string
	for _, n := range q.Interactions {
		if n != "choiceInteraction" && !slices.Contains(unsupported, n) {
			unsupported = append(unsupported, n)
		}
	}
	switch {
	case len(unsupported) > 0:
		return BankQuestion{}, errs.InvalidField("body", fmt.Sprintf("unsupported interaction %s: only choiceInteraction (single or multiple cardinality) is imported", strings.Join(unsupported, ", ")))
	case len(q.Interactions) == 0:
		return BankQuestion{}, errs.InvalidField("body", "has no choiceInteraction")
	case len(q.Interactions) > 1:
		return BankQuestion{}, errs.InvalidField("body", "has more than one interaction: send one question per assessmentItem")
	case q.Identifier == "" || len(q.Identifier) > 100:
		return BankQuestion{}, errs.InvalidField("body", "the assessmentItem needs an identifier (at most 100 characters)")
	case len(q.Correct) == 0:
		return BankQuestion{}, errs.InvalidField("body", "the choice interaction's responseDeclaration has no correctResponse")
	}
	kind := quiz.Single
	switch q.Cardinality {
	case "single":
	case "multiple":
		kind = quiz.Multiple
	default:
		return BankQuestion{}, errs.InvalidField("body", fmt.Sprintf("unsupported cardinality %q: only single and multiple are imported", q.Cardinality))
	}
	opts := slices.Clone(q.Choices)
	for _, c := range q.Correct {
		i := slices.IndexFunc(opts, func(o quiz.Option) bool { return o.ID == c })
		if i < 0 {
			return BankQuestion{}, errs.InvalidField("body", fmt.Sprintf("the correct response %q is not a simpleChoice of the interaction", c))
		}
		opts[i].Correct = true
	}
	var parts []string
	for _, p := range []string{q.BodyText, q.Prompt} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	prompt := strings.Join(parts, "\n\n")
	if prompt == "" {
		prompt = q.Title
	}
	return BankQuestion{Kind: kind, Prompt: prompt, Options: opts}, nil
}

// qtiTopics are the topic keys of an imported item: the query's, else the
// identifier's part before its first '.' ("loops.q1" → loops).
func qtiTopics(query []string, identifier string) []string {
	var out []string
	for _, q := range query {
		for _, k := range strings.Split(q, ",") {
			if k = strings.TrimSpace(k); k != "" && !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	if len(out) == 0 {
		if k, _, ok := strings.Cut(identifier, "."); ok && k != "" {
			out = []string{k}
		}
	}
	return out
}
