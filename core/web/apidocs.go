package web

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/gofiber/fiber/v2"
)

// The human API docs are rendered on the server from the same OpenAPI
// document that /api/openapi.json serves, so they cannot drift from it and
// need no script or CDN (huma's default docs page loads one).

type docParam struct {
	Name, In, Type, Description string
	Required                    bool
}

type docResponse struct {
	Status, Description, Schema string
}

type docOperation struct {
	ID, Method, Path, Summary, Description, Security, RequestBody string
	Params                                                        []docParam
	Responses                                                     []docResponse
}

type docGroup struct {
	Tag        string
	Operations []docOperation
}

type apiDocsData struct {
	Title, Version, Description, OpenAPIVersion string
	Groups                                      []docGroup
}

func (s *Server) apiDocs(c *fiber.Ctx) error {
	return s.render(c, "apidocs", &Page{Title: "API reference", Data: buildDocs(s.API.OpenAPI())})
}

func buildDocs(o *huma.OpenAPI) apiDocsData {
	d := apiDocsData{OpenAPIVersion: o.OpenAPI}
	if o.Info != nil {
		d.Title, d.Version, d.Description = o.Info.Title, o.Info.Version, o.Info.Description
	}
	groups := map[string]*docGroup{}
	paths := make([]string, 0, len(o.Paths))
	for p := range o.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		item := o.Paths[p]
		for _, mo := range []struct {
			method string
			op     *huma.Operation
		}{{"GET", item.Get}, {"POST", item.Post}, {"PUT", item.Put}, {"PATCH", item.Patch}, {"DELETE", item.Delete}} {
			if mo.op == nil || mo.op.Hidden {
				continue
			}
			op := mo.op
			do := docOperation{ID: op.OperationID, Method: mo.method, Path: p, Summary: op.Summary, Description: op.Description}
			var sec []string
			for _, req := range op.Security {
				for name := range req {
					sec = append(sec, name)
				}
			}
			do.Security = strings.Join(sec, " or ")
			for _, prm := range op.Parameters {
				dp := docParam{Name: prm.Name, In: prm.In, Description: prm.Description, Required: prm.Required}
				if prm.Schema != nil {
					dp.Type = prm.Schema.Type
				}
				do.Params = append(do.Params, dp)
			}
			if op.RequestBody != nil {
				for _, mt := range op.RequestBody.Content {
					do.RequestBody = schemaText(o, mt.Schema)
					break
				}
			}
			codes := make([]string, 0, len(op.Responses))
			for code := range op.Responses {
				codes = append(codes, code)
			}
			sort.Strings(codes)
			for _, code := range codes {
				r := op.Responses[code]
				dr := docResponse{Status: code, Description: r.Description}
				if strings.HasPrefix(code, "2") {
					for _, mt := range r.Content {
						dr.Schema = schemaText(o, mt.Schema)
						break
					}
				}
				do.Responses = append(do.Responses, dr)
			}
			tag := "general"
			if len(op.Tags) > 0 {
				tag = op.Tags[0]
			}
			g, ok := groups[tag]
			if !ok {
				g = &docGroup{Tag: tag}
				groups[tag] = g
			}
			g.Operations = append(g.Operations, do)
		}
	}
	tags := make([]string, 0, len(groups))
	for t := range groups {
		tags = append(tags, t)
	}
	sort.Strings(tags)
	for _, t := range tags {
		d.Groups = append(d.Groups, *groups[t])
	}
	return d
}

// schemaText renders a schema, following one level of $ref, as indented JSON.
func schemaText(o *huma.OpenAPI, sch *huma.Schema) string {
	if sch == nil {
		return ""
	}
	if sch.Ref != "" && o.Components != nil && o.Components.Schemas != nil {
		if resolved := o.Components.Schemas.SchemaFromRef(sch.Ref); resolved != nil {
			sch = resolved
		}
	}
	b, err := json.MarshalIndent(sch, "", "  ")
	if err != nil {
		return ""
	}
	return string(b)
}
