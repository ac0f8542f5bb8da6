package rest

// The OpenAPI 3.1 description of /v1, generated from the route table so it
// cannot drift from what is served.

import (
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"atrium/access"
)

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

// openAPI describes routes.
func openAPI(all []route) map[string]any {
	paths := map[string]map[string]any{}
	for _, rt := range all {
		op := map[string]any{
			"summary":     rt.summary,
			"operationId": operationID(rt),
			"responses":   responses(rt),
		}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(rt.path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		for _, name := range rt.query {
			params = append(params, map[string]any{"name": name, "in": "query", "required": false, "schema": map[string]any{"type": "string"}})
		}
		if rt.useCase != "" {
			// The domain's use case the operation runs (service.UseCases).
			op["x-atrium-use-case"] = rt.useCase
		}
		if rt.useCase != "" {
			params = append(params, map[string]any{"$ref": "#/components/parameters/project"})
			op["security"] = []any{map[string]any{"bearer": []any{}}}
		}
		if params != nil {
			op["parameters"] = params
		}
		if rt.body != nil {
			op["requestBody"] = map[string]any{"required": false, "content": map[string]any{
				"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(rt.body), false)}}}
		}
		if paths[rt.path] == nil {
			paths[rt.path] = map[string]any{}
		}
		paths[rt.path][strings.ToLower(rt.method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "Atrium project API",
			"version":     buildVersion(),
			"description": "The platform's project API (as called by @oystehr/sdk), served by Atrium. Errors are {message, code, atriumCode, field?}: code is the HTTP status, atriumCode Atrium's closed-set code.",
		},
		"servers": []any{map[string]any{"url": "/v1"}},
		"paths":   paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
			"parameters": map[string]any{"project": map[string]any{
				"name": "x-oystehr-project-id", "in": "header", "required": false, "schema": map[string]any{"type": "string"},
				"description": "The project, for developer and operator tokens (x-zapehr-project-id is accepted too).",
			}},
			"schemas": map[string]any{
				"Error": map[string]any{"type": "object", "required": []any{"message", "code", "atriumCode"}, "properties": map[string]any{
					"message": map[string]any{"type": "string"}, "code": map[string]any{"type": "integer"},
					"atriumCode": map[string]any{"type": "string"}, "field": map[string]any{"type": "string"},
				}},
				"AccessPolicy": policySchema(),
			},
		},
	}
}

func operationID(rt route) string {
	if rt.useCase != "" {
		return rt.useCase + "_" + strings.ToLower(rt.method) + strings.NewReplacer("/", "_", "{", "", "}", "", "-", "_").Replace(rt.path)
	}
	return strings.ToLower(rt.method) + strings.NewReplacer("/", "_", ".", "_").Replace(rt.path)
}

func responses(rt route) map[string]any {
	errRef := map[string]any{"description": "Error", "content": map[string]any{"application/json": map[string]any{
		"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}}
	ok := map[string]any{"description": "Success"}
	if rt.status != http.StatusNoContent {
		schema := map[string]any{"type": "object"}
		if rt.answer != nil {
			schema = schemaOf(reflect.TypeOf(rt.answer), true)
		}
		ok["content"] = map[string]any{"application/json": map[string]any{"schema": schema}}
	}
	return map[string]any{strconv.Itoa(rt.status): ok, "default": errRef}
}

var policyType = reflect.TypeOf(access.Policy{})

// schemaOf is the JSON schema of a body or answer type, from its json
// tags. In an answer, fields without omitempty are required (always
// present, possibly null); a body's fields are all optional to the decoder,
// the use case says which it needs.
func schemaOf(t reflect.Type, answer bool) map[string]any {
	nullable := false
	for t.Kind() == reflect.Pointer {
		t, nullable = t.Elem(), true
	}
	if t.Kind() == reflect.Struct && strings.HasPrefix(t.Name(), "optional[") {
		t, nullable = t.Field(2).Type, true
	}
	var s map[string]any
	switch {
	case t == policyType:
		s = map[string]any{"$ref": "#/components/schemas/AccessPolicy"}
	case t.Kind() == reflect.Struct:
		props, required := map[string]any{}, []any{}
		fields(t, answer, props, &required)
		s = map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		if len(required) > 0 {
			s["required"] = required
		}
	case t.Kind() == reflect.Map:
		s = map[string]any{"type": "object"}
	case t.Kind() == reflect.Slice:
		s = map[string]any{"type": "array", "items": schemaOf(t.Elem(), answer)}
	case t.Kind() == reflect.Bool:
		s = map[string]any{"type": "boolean"}
	case t.Kind() == reflect.String:
		s = map[string]any{"type": "string"}
	default:
		s = map[string]any{"type": "number"}
	}
	if nullable {
		return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
	}
	return s
}

// fields adds the JSON fields of struct type t (and of the structs it
// embeds) to props, and to required those an answer always has.
func fields(t reflect.Type, answer bool, props map[string]any, required *[]any) {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			fields(et, answer, props, required)
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		props[name] = schemaOf(f.Type, answer)
		if answer && !strings.Contains(opts, "omitempty") {
			*required = append(*required, name)
		}
	}
}

// policySchema is the access-policy grammar's shape.
func policySchema() map[string]any {
	oneOrMany := map[string]any{"anyOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "array", "items": map[string]any{"type": "string"}}}}
	return map[string]any{"type": "object", "required": []any{"rule"}, "properties": map[string]any{
		"rule": map[string]any{"type": "array", "items": map[string]any{"type": "object", "required": []any{"resource", "action", "effect"},
			"properties": map[string]any{
				"resource": oneOrMany, "action": oneOrMany, "condition": oneOrMany,
				"effect": map[string]any{"enum": []any{"Allow", "Deny"}},
			}}},
	}}
}
