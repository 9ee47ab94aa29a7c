/** Splits a multiLine or comma-separated input into trimmed, non-empty items. */
export function parseList(value: string | undefined): string[] {
  return (value ?? '')
    .split(/[\r\n,]+/)
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

