package rules

// Annotations are the object's own annotations (its metadata's), as
// strings.
func (o *Object) Annotations() map[string]string {
	md, _ := o.Value["metadata"].(map[string]any)
	raw, _ := md["annotations"].(map[string]any)
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}
