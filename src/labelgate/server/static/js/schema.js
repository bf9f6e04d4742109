// Questions about a project's label schema that several modules ask.

/** The attribute specs a region of class `label` may carry (schema-wide ones first). */
export function attributeSpecs(schema, label) {
  const c = (schema.classes || []).find((k) => k.name === label);
  return [...(schema.attributes || []), ...((c && c.attributes) || [])];
}

/** `region` relabelled to `label`, keeping only the attributes the new class defines. */
export function relabel(schema, region, label) {
  const out = { ...region, label };
  if (region.attributes) {
    const names = new Set(attributeSpecs(schema, label).map((a) => a.name));
    const kept = Object.fromEntries(Object.entries(region.attributes).filter(([k]) => names.has(k)));
    if (Object.keys(kept).length) out.attributes = kept;
    else delete out.attributes;
  }
  return out;
}
