package upstream

import (
	"strings"

	"github.com/biter777/countries"
)

// ISO3166 answers the two questions Procore's contract asks of locations:
// is a country_code an ISO 3166-1 alpha-2 code, and is a state_code (an ISO
// 3166-2 subdivision code without its country prefix, "CA" for "US-CA") a
// subdivision of that country. It reads github.com/biter777/countries, a
// maintained data set, so the service and the emulator judge codes alike and
// no one keeps a hand-written table.
type ISO3166 struct {
	subdivisions map[string]map[string]bool // alpha-2 -> subdivision codes without prefix
}

// NewISO3166 builds the lookup tables; build one and share it.
func NewISO3166() *ISO3166 {
	t := &ISO3166{subdivisions: make(map[string]map[string]bool, 256)}
	for _, c := range countries.All() {
		if a := c.Alpha2(); len(a) == 2 {
			t.subdivisions[a] = map[string]bool{}
		}
	}
	for _, s := range countries.AllSubdivisions() {
		cc, sub, ok := strings.Cut(string(s), "-")
		if !ok {
			continue
		}
		if m := t.subdivisions[cc]; m != nil {
			m[sub] = true
		}
	}
	return t
}

// ValidCountry reports whether code is an upper-case ISO 3166-1 alpha-2 code.
func (t *ISO3166) ValidCountry(code string) bool {
	_, ok := t.subdivisions[code]
	return ok
}

// ValidSubdivision reports whether subdivision (upper case, without the
// country prefix) is an ISO 3166-2 subdivision of country.
func (t *ISO3166) ValidSubdivision(country, subdivision string) bool {
	return t.subdivisions[country][subdivision]
}
