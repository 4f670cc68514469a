package cups

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The few parts of the IPP/1.1 binary encoding (RFC 8010) this package speaks: a request of operation
// attributes, a response of attribute groups.

// Operations.
const (
	opPrintJob             uint16 = 0x0002
	opGetPrinterAttributes uint16 = 0x000B
)

// Delimiter tags (RFC 8010 §3.5.1).
const (
	tagOperation byte = 0x01
	tagJob       byte = 0x02
	tagEnd       byte = 0x03
	tagPrinter   byte = 0x04
)

// Value tags (RFC 8010 §3.5.2).
const (
	tagInteger  byte = 0x21
	tagBoolean  byte = 0x22
	tagEnum     byte = 0x23
	tagText     byte = 0x41 // textWithoutLanguage
	tagName     byte = 0x42 // nameWithoutLanguage
	tagKeyword  byte = 0x44
	tagURI      byte = 0x45
	tagCharset  byte = 0x47
	tagLanguage byte = 0x48 // naturalLanguage
	tagMIMEType byte = 0x49
)

// Status codes this package names (RFC 8011 §B).
const (
	statusNotFound         uint16 = 0x0406
	statusNotAuthorized    uint16 = 0x0403
	statusNotAuthenticated uint16 = 0x0402
	statusForbidden        uint16 = 0x0401
	statusNotAccepting     uint16 = 0x0506
)

// maxResponse bounds a response read from cupsd.
const maxResponse = 1 << 20

// attr is one attribute: its value tag and its values (integers and enums decoded to int, booleans to
// bool, the rest as string).
type attr struct {
	tag    byte
	name   string
	values []any
}

// request builds an IPP request.
type request struct {
	buf bytes.Buffer
}

// newRequest starts a request with the operation attributes every request carries first.
func newRequest(op uint16, id uint32, printerURI string) *request {
	r := &request{}
	r.buf.Write([]byte{2, 0}) // IPP/2.0, as CUPS speaks it
	_ = binary.Write(&r.buf, binary.BigEndian, op)
	_ = binary.Write(&r.buf, binary.BigEndian, id)
	r.buf.WriteByte(tagOperation)
	r.add(tagCharset, "attributes-charset", "utf-8")
	r.add(tagLanguage, "attributes-natural-language", "en")
	r.add(tagURI, "printer-uri", printerURI)
	return r
}

// add appends an attribute with one or more string values.
func (r *request) add(tag byte, name string, values ...string) {
	for i, v := range values {
		r.buf.WriteByte(tag)
		if i > 0 {
			name = "" // an additional value of the same attribute
		}
		writeString(&r.buf, name)
		writeString(&r.buf, v)
	}
}

// bytes ends the attributes and returns the encoded request (the document, if any, follows it).
func (r *request) bytes() []byte {
	r.buf.WriteByte(tagEnd)
	return r.buf.Bytes()
}

func writeString(w *bytes.Buffer, s string) {
	_ = binary.Write(w, binary.BigEndian, uint16(len(s)))
	w.WriteString(s)
}

// response is a decoded IPP response.
type response struct {
	status uint16
	id     uint32
	groups []group
}

type group struct {
	tag   byte
	attrs []attr
}

// ok reports a successful-ok status (0x0000–0x00FF).
func (r *response) ok() bool { return r.status <= 0x00FF }

// find returns the first attribute called name in a group tagged tag.
func (r *response) find(tag byte, name string) (attr, bool) {
	for _, g := range r.groups {
		if g.tag != tag {
			continue
		}
		for _, a := range g.attrs {
			if a.name == name {
				return a, true
			}
		}
	}
	return attr{}, false
}

// str returns the first value of an attribute as a string ("" when absent).
func (r *response) str(tag byte, name string) string {
	a, ok := r.find(tag, name)
	if !ok || len(a.values) == 0 {
		return ""
	}
	s, _ := a.values[0].(string)
	return s
}

// num returns the first integer or enum value of an attribute.
func (r *response) num(tag byte, name string) (int, bool) {
	a, ok := r.find(tag, name)
	if !ok || len(a.values) == 0 {
		return 0, false
	}
	n, ok := a.values[0].(int)
	return n, ok
}

var errShort = errors.New("truncated IPP message")

// parseResponse decodes an IPP response (RFC 8010 §3.1.1, §3.1.4). Values of tags it does not know are
// kept as strings of their raw bytes; out-of-band values (no-value, unknown) as nil.
func parseResponse(b []byte) (*response, error) {
	if len(b) < 9 {
		return nil, fmt.Errorf("ipp: response of %d bytes: %w", len(b), errShort)
	}
	if b[0] < 1 || b[0] > 2 {
		return nil, fmt.Errorf("ipp: unsupported version %d.%d", b[0], b[1])
	}
	r := &response{status: binary.BigEndian.Uint16(b[2:4]), id: binary.BigEndian.Uint32(b[4:8])}
	rd := bytes.NewReader(b[8:])
	var cur *group
	var last *attr
	for {
		tag, err := rd.ReadByte()
		if err != nil {
			return nil, fmt.Errorf("ipp: no end-of-attributes tag: %w", errShort)
		}
		if tag == tagEnd {
			return r, nil
		}
		if tag <= 0x0F { // a delimiter: a new group
			r.groups = append(r.groups, group{tag: tag})
			cur, last = &r.groups[len(r.groups)-1], nil
			continue
		}
		if cur == nil {
			return nil, fmt.Errorf("ipp: attribute before any group tag")
		}
		name, err := readField(rd)
		if err != nil {
			return nil, err
		}
		val, err := readField(rd)
		if err != nil {
			return nil, err
		}
		v, err := decodeValue(tag, val)
		if err != nil {
			return nil, fmt.Errorf("ipp: attribute %q: %w", name, err)
		}
		if len(name) == 0 {
			if last == nil {
				return nil, fmt.Errorf("ipp: additional value without an attribute")
			}
			last.values = append(last.values, v)
			continue
		}
		cur.attrs = append(cur.attrs, attr{tag: tag, name: string(name), values: []any{v}})
		last = &cur.attrs[len(cur.attrs)-1]
	}
}

func readField(rd *bytes.Reader) ([]byte, error) {
	var n uint16
	if err := binary.Read(rd, binary.BigEndian, &n); err != nil {
		return nil, fmt.Errorf("ipp: field length: %w", errShort)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(rd, b); err != nil {
		return nil, fmt.Errorf("ipp: field of %d bytes: %w", n, errShort)
	}
	return b, nil
}

func decodeValue(tag byte, b []byte) (any, error) {
	switch {
	case tag == tagInteger || tag == tagEnum:
		if len(b) != 4 {
			return nil, fmt.Errorf("integer of %d bytes", len(b))
		}
		return int(int32(binary.BigEndian.Uint32(b))), nil
	case tag == tagBoolean:
		if len(b) != 1 {
			return nil, fmt.Errorf("boolean of %d bytes", len(b))
		}
		return b[0] != 0, nil
	case tag >= 0x10 && tag <= 0x1F: // out-of-band: unsupported, unknown, no-value
		return nil, nil
	}
	return string(b), nil
}
