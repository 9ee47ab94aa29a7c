/** Splits a multiLine or comma-separated input into trimmed, non-empty items. */
export function parseList(value: string | undefined): string[] {
  return (value ?? '')
    .split(/[\r\n,]+/)
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

/** Replaces `{key}` placeholders; unknown placeholders are left for the caller to reject. */
export function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => (Object.hasOwn(values, key) ? values[key] : whole));
}
