package data

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// messagesType is what an UltraChat messages column must look like.
const messagesType = "list<struct<role: string, content: string>>"

// arrowColumns turns Arrow record batches (from Parquet or Arrow IPC) into raw rows.
type arrowColumns struct {
	lay *layout
}

// check verifies that the layout's columns have types it can read.
func (c arrowColumns) check(path string, sc *arrow.Schema) error {
	flags := map[string]string{c.lay.messages: "messages", c.lay.prompt: "prompt", c.lay.response: "response", c.lay.chosen: "chosen", c.lay.reject: "rejected"}
	for _, name := range c.lay.columns() {
		f, _ := sc.FieldsByName(name)
		if len(f) == 0 {
			return fileError(path, name, fmt.Errorf("column %q not found", name))
		}
		dt, want := f[0].Type, "string"
		ok := isText(dt)
		if name == c.lay.messages {
			want = messagesType
			ok = isMessages(dt)
		}
		if !ok {
			return fileError(path, name, fmt.Errorf("column %q has type %s, want %s; pass --%s-column or --schema", name, dt, want, flags[name]))
		}
	}
	return nil
}

func isText(dt arrow.DataType) bool {
	switch dt.ID() {
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW, arrow.BINARY, arrow.LARGE_BINARY, arrow.BINARY_VIEW:
		return true
	}
	return false
}

func isMessages(dt arrow.DataType) bool {
	var elem arrow.DataType
	switch t := dt.(type) {
	case *arrow.ListType:
		elem = t.Elem()
	case *arrow.LargeListType:
		elem = t.Elem()
	default:
		return false
	}
	st, ok := elem.(*arrow.StructType)
	if !ok {
		return false
	}
	role, okRole := st.FieldByName("role")
	content, okContent := st.FieldByName("content")
	return okRole && okContent && isText(role.Type) && isText(content.Type)
}

// appendRows converts rows [from, NumRows) of rec, whose first row is file row firstRow.
// Strings are copied out of the batch, so that rows held in a shuffle buffer do not pin
// whole batches in memory.
func (c arrowColumns) appendRows(dst []rawRow, rec arrow.RecordBatch, firstRow, from int64) []rawRow {
	column := func(name string) arrow.Array {
		if name == "" {
			return nil
		}
		idx := rec.Schema().FieldIndices(name)
		return rec.Column(idx[0])
	}
	var messages func(int) []Message
	if arr := column(c.lay.messages); arr != nil {
		messages = messagesAt(arr.(array.ListLike))
	}
	prompt, response := textAt(column(c.lay.prompt)), textAt(column(c.lay.response))
	chosen, rejected := textAt(column(c.lay.chosen)), textAt(column(c.lay.reject))
	for i := int(from); i < int(rec.NumRows()); i++ {
		row := rawRow{row: firstRow + int64(i)}
		if messages != nil {
			row.messages = messages(i)
		}
		row.prompt, row.response, row.chosen, row.rejected = prompt(i), response(i), chosen(i), rejected(i)
		dst = append(dst, row)
	}
	return dst
}

// textAt returns a copy of a text column's value; null reads as "". A nil array (an unused
// column) always reads "".
func textAt(arr arrow.Array) func(int) string {
	if arr == nil {
		return func(int) string { return "" }
	}
	get := viewAt(arr)
	return func(i int) string { return strings.Clone(get(i)) }
}

// viewAt returns a text column's value without copying it: the string shares the batch's
// memory and must not outlive it. Null reads as "".
func viewAt(arr arrow.Array) func(int) string {
	var get func(int) string
	switch a := arr.(type) {
	case *array.String:
		get = a.Value
	case *array.LargeString:
		get = a.Value
	case *array.StringView:
		get = a.Value
	case *array.Binary:
		get = a.ValueString
	case *array.LargeBinary:
		get = a.ValueString
	case *array.BinaryView:
		get = a.ValueString
	}
	return func(i int) string {
		if arr.IsNull(i) {
			return ""
		}
		return get(i)
	}
}

// messagesAt reads a list<struct<role, content>> column. A null list reads as no
// messages, a null element as a message with no role.
func messagesAt(list array.ListLike) func(int) []Message {
	st := list.ListValues().(*array.Struct)
	typ := st.DataType().(*arrow.StructType)
	roleIdx, _ := typ.FieldIdx("role")
	contentIdx, _ := typ.FieldIdx("content")
	role, content := viewAt(st.Field(roleIdx)), textAt(st.Field(contentIdx))
	return func(i int) []Message {
		if list.IsNull(i) {
			return nil
		}
		start, end := list.ValueOffsets(i)
		msgs := make([]Message, 0, end-start)
		for j := int(start); j < int(end); j++ {
			if st.IsNull(j) {
				msgs = append(msgs, Message{})
				continue
			}
			msgs = append(msgs, Message{Role: internRole(role(j)), Content: content(j)})
		}
		return msgs
	}
}

// internRole maps the usual roles, in any case, to constants, sparing a copy per message;
// other roles are copied out of the batch.
func internRole(r string) string {
	for _, known := range []string{RoleUser, RoleAssistant, RoleSystem} {
		if strings.EqualFold(r, known) {
			return known
		}
	}
	return strings.Clone(r)
}
