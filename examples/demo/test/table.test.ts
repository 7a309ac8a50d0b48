// The demo's tables: every column starts at the same offset on every line, whatever the cell widths.
import { describe, expect, it } from 'vitest';
import { formatTable } from '../src/table.ts';

/** Start offset of each cell in a formatted line, given the expected cells. */
const starts = (line: string, cells: readonly string[]) => {
  let from = 0;
  return cells.map((c) => {
    const at = line.indexOf(c, from);
    from = at + c.length;
    return at;
  });
};

describe('formatTable', () => {
  it('aligns every column to its widest cell, header included, with no trailing spaces', () => {
    const header = ['phase', 'request', 'status', 'code'];
    const rows = [
      ['3 window ended', 'event signed with forged key', '401', 'NO_MATCHING_KEY'],
      ['1', 'VERIFY challenge', '200', ''],
      null,
      ['2 rotation window', 'x', '200', 'KEY_EXPIRED'],
    ];
    const out = formatTable(header, rows);
    expect(out).toHaveLength(5);
    expect(out[3]).toBe('');
    const headerStarts = starts(out[0]!, header);
    rows.forEach((r, i) => {
      if (r === null) return;
      const cells = r.filter((c) => c !== '');
      expect(starts(out[i + 1]!, cells)).toEqual(headerStarts.slice(0, cells.length));
    });
    for (const l of out) expect(l).toBe(l.trimEnd());
    // Two spaces between the widest cell and the next column.
    expect(out[1]).toContain('event signed with forged key  401');
  });

  it('keeps a header wider than its cells', () => {
    expect(
      formatTable(
        ['last match', 'ends'],
        [
          ['0 min ago', '-'],
          ['60 min ago', 'ended'],
        ],
      ),
    ).toEqual(['last match  ends', '0 min ago   -', '60 min ago  ended']);
  });
});

describe('pnpm demo output', () => {
  it('prints both tables with every cell starting under its header', async () => {
    const { execFileSync } = await import('node:child_process');
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: new URL('..', import.meta.url),
      encoding: 'utf8',
    });
    const lines = out.split('\n');
    for (const first of ['phase', 'secret']) {
      const h = lines.findIndex((l) => l.startsWith(first));
      expect(h).toBeGreaterThan(-1);
      const header = lines[h]!;
      const cols = [...header.matchAll(/\S+(?: \S+)*/g)].map((m) => m.index);
      // The request table has blank lines between phases and ends at the usage heading; the usage
      // table ends at the first blank line.
      const end = first === 'phase' ? lines.findIndex((l) => l.startsWith('Usage per key')) : lines.indexOf('', h);
      const body = lines.slice(h + 1, end).filter((l) => l !== '');
      let rows = 0;
      for (const l of body) {
        rows++;
        // Every column boundary: two spaces before it, and a cell (not a space) starting on it.
        for (const c of cols.slice(1)) {
          if (c! >= l.length) continue;
          expect(l.slice(c! - 2, c! + 1), `line ${JSON.stringify(l)} at column ${c}`).toMatch(/^ {2}\S$/);
        }
      }
      expect(rows).toBeGreaterThan(5);
    }
  }, 30_000);
});
