/**
 * A plain-text table whose columns are as wide as their widest cell (header included), two spaces
 * apart, without trailing spaces. `null` rows print as blank separator lines.
 */
export function formatTable(header: readonly string[], rows: readonly (readonly string[] | null)[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r ? (r[i] ?? '').length : 0))));
  const line = (cells: readonly string[]) =>
    widths
      .map((w, i) => (cells[i] ?? '').padEnd(w))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map((r) => (r ? line(r) : ''))];
}
