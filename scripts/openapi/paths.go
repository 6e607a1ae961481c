package main

import (
	"fmt"
	"slices"
	"strings"
)

// expandResourcePaths rewrites the routes whose path parameter holds a
// resource name with slashes into the URLs clients really call.
//
// protoc-gen-openapiv2 renders googleapis operations.proto's bindings
// (`/v1/{name=operations/**}`, `/v1/{name=operations}`) as `/v1/{name}`
// with `pattern: operations/.+`: an OpenAPI client percent-encodes the
// slash in such a parameter (`/v1/operations%2F123`), which the gateway
// does not route, and the list and get routes collide on `/v1/{name}` (one
// is renamed `{name_1}`). Its own expand_slashed_path_patterns option
// cannot help: it leaves `**` in the path and a path parameter absent from
// it. Here each such parameter becomes the path it stands for:
// `/v1/operations/{operation}` (the parameter `operation` is the name's
// last segment, ids never hold a slash) and `/v1/operations` (no parameter).
func expandResourcePaths(doc object) error {
	paths, err := at(doc, "paths")
	if err != nil {
		return err
	}
	expanded := object{}
	keys := make([]string, 0, len(paths))
	for k := range paths {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, path := range keys {
		item, ok := paths[path].(object)
		if !ok {
			return &shapeError{path: []string{"paths", path}}
		}
		for method, v := range item {
			op, ok := v.(object)
			if !ok {
				return &shapeError{path: []string{"paths", path, method}}
			}
			newPath, err := expandOperation(path, op)
			if err != nil {
				return fmt.Errorf("%s %s: %w", method, path, err)
			}
			target, _ := expanded[newPath].(object)
			if target == nil {
				target = object{}
				expanded[newPath] = target
			}
			if _, dup := target[method]; dup {
				return fmt.Errorf("%s %s: two operations expand to it", method, newPath)
			}
			target[method] = op
		}
	}
	doc["paths"] = expanded
	return nil
}

// expandOperation replaces, in path and in op's parameters, each path
// parameter that has a `pattern` by the segments of the pattern, and
// returns the new path.
func expandOperation(path string, op object) (string, error) {
	params, _ := op["parameters"].(list)
	var kept list
	for _, p := range params {
		param, ok := p.(object)
		if !ok || param["in"] != "path" || param["pattern"] == nil {
			kept = append(kept, p)
			continue
		}
		name, _ := param["name"].(string)
		pattern, _ := param["pattern"].(string)
		segs := strings.Split(pattern, "/")
		for i, seg := range segs {
			if seg != ".+" && seg != "[^/]+" {
				continue
			}
			if i == 0 {
				return "", fmt.Errorf("parameter %s: pattern %q starts with a wildcard", name, pattern)
			}
			id := strings.TrimSuffix(segs[i-1], "s")
			segs[i] = "{" + id + "}"
			desc, _ := param["description"].(string)
			kept = append(kept, object{
				"name":        id,
				"in":          "path",
				"required":    true,
				"type":        "string",
				"description": strings.TrimSpace(desc + " In the path: the last segment of `" + strings.Join(segs, "/") + "`."),
			})
		}
		placeholder := "{" + name + "}"
		if !strings.Contains(path, placeholder) {
			return "", fmt.Errorf("parameter %s is not in the path", name)
		}
		path = strings.Replace(path, placeholder, strings.Join(segs, "/"), 1)
	}
	if len(kept) > 0 {
		op["parameters"] = kept
	} else {
		delete(op, "parameters")
	}
	return path, nil
}
