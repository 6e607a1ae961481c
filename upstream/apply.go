package upstream

import "reflect"

// ApplyTo returns a copy of u with the patch's values written over it, as
// Procore would store them: a cleared field becomes null. It is what a
// validate_only update answers with (the user as the update would leave
// it); fields Procore computes (name, updated_at) are left as they were,
// since only Procore knows what it would make of them. Fields the patch
// names that the User does not hold are ignored (Patch.validate refuses
// them before anything is sent).
func (p *Patch) ApplyTo(u *User) *User {
	out := *u
	byName := make(map[string]Field, len(p.entries))
	for _, f := range Fields() {
		byName[f.Name] = f
	}
	for _, e := range p.entries {
		f, ok := byName[e.field]
		if !ok {
			continue
		}
		dst := f.GoValue(&out)
		if dst.Kind() != reflect.Pointer {
			continue
		}
		if e.value.IsNull() {
			dst.Set(reflect.Zero(dst.Type()))
			continue
		}
		nv := reflect.New(dst.Type().Elem())
		switch k := nv.Elem().Kind(); {
		case e.value.kind == KindString && k == reflect.String:
			nv.Elem().SetString(e.value.s)
		case e.value.kind == KindInt && k == reflect.Int64:
			nv.Elem().SetInt(e.value.i)
		case e.value.kind == KindBool && k == reflect.Bool:
			nv.Elem().SetBool(e.value.b)
		default:
			continue // a value of another type: validate refuses it
		}
		dst.Set(nv)
	}
	return &out
}
