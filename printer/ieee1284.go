package printer

import (
	"errors"
	"strings"
)

// ErrBadDeviceID is returned for an IEEE 1284 device ID that cannot be parsed.
var ErrBadDeviceID = errors.New("bad IEEE 1284 device ID")

// DeviceID is a parsed IEEE 1284 device ID, the "MFG:Zebra Technologies;CMD:ZPL;MDL:ZTC ZD420-203dpi;"
// string a USB printer returns to GET_DEVICE_ID.
type DeviceID struct {
	Manufacturer string   // MFG or MANUFACTURER
	Model        string   // MDL or MODEL
	CommandSet   []string // CMD or COMMAND SET, split on commas
	Serial       string   // SN, SERN or SERIALNUMBER
	Description  string   // DES or DESCRIPTION
	Class        string   // CLS or CLASS
	// Fields holds every key (upper-cased, trimmed) with its trimmed value; the first occurrence wins.
	Fields map[string]string
}

// keyAliases maps the spellings printers use to one canonical key.
var keyAliases = map[string]string{
	"MFG": "MFG", "MANUFACTURER": "MFG",
	"MDL": "MDL", "MODEL": "MDL",
	"CMD": "CMD", "COMMAND SET": "CMD", "COMMANDSET": "CMD",
	"SN": "SN", "SERN": "SN", "SERIALNUMBER": "SN", "SERIAL NUMBER": "SN",
	"DES": "DES", "DESCRIPTION": "DES",
	"CLS": "CLS", "CLASS": "CLS",
}

// ParseDeviceID parses a device ID as returned on the wire: a 2-byte length (big-endian, counting the two
// length bytes themselves) followed by the ID text. Like CUPS it accepts a little-endian length from
// printers that get the byte order wrong, and clamps a length longer than b.
func ParseDeviceID(b []byte) (DeviceID, error) {
	if len(b) < 2 {
		return DeviceID{}, errors.Join(ErrBadDeviceID, errors.New("shorter than its length prefix"))
	}
	n := int(b[0])<<8 | int(b[1])
	if n > len(b) || n < 2 {
		n = int(b[1])<<8 | int(b[0]) // little-endian, a common firmware mistake
	}
	if n > len(b) || n < 2 {
		n = len(b)
	}
	id := ParseDeviceIDString(string(b[2:n]))
	if len(id.Fields) == 0 {
		return id, errors.Join(ErrBadDeviceID, errors.New("no KEY:value fields"))
	}
	return id, nil
}

// ParseDeviceIDString parses the text of a device ID (without the length prefix): "KEY:value;" pairs.
// Keys are case-insensitive; a value may contain ':'; NUL bytes end the text.
func ParseDeviceIDString(s string) DeviceID {
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	id := DeviceID{Fields: map[string]string{}}
	for part := range strings.SplitSeq(s, ";") {
		k, v, ok := strings.Cut(part, ":")
		if !ok {
			continue
		}
		k = strings.ToUpper(strings.TrimSpace(k))
		v = strings.TrimSpace(v)
		if k == "" {
			continue
		}
		if _, dup := id.Fields[k]; !dup {
			id.Fields[k] = v
		}
		canon, known := keyAliases[k]
		if !known {
			continue
		}
		switch canon {
		case "MFG":
			id.Manufacturer = first(id.Manufacturer, v)
		case "MDL":
			id.Model = first(id.Model, v)
		case "SN":
			id.Serial = first(id.Serial, v)
		case "DES":
			id.Description = first(id.Description, v)
		case "CLS":
			id.Class = first(id.Class, v)
		case "CMD":
			if id.CommandSet == nil {
				for c := range strings.SplitSeq(v, ",") {
					if c = strings.TrimSpace(c); c != "" {
						id.CommandSet = append(id.CommandSet, c)
					}
				}
			}
		}
	}
	return id
}

func first(have, v string) string {
	if have != "" {
		return have
	}
	return v
}

// Speaks reports whether the command set lists lang (case-insensitive), e.g. Speaks("ZPL").
func (d DeviceID) Speaks(lang string) bool {
	for _, c := range d.CommandSet {
		if strings.EqualFold(c, lang) {
			return true
		}
	}
	return false
}

// Language returns the printer language the command set names (LanguageFromCommandSet): ZPL when
// listed (also for "ZPL II"), LangUnknown when no known language is listed.
func (d DeviceID) Language() Language { return LanguageFromCommandSet(d.CommandSet) }
