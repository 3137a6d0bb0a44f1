import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** One code block of a README that mirrors a region of an example file. */
export interface ReadmeSnippet {
  /** `examples/quick-start.ts#usage`, as the README's marker names it. */
  marker: string;
  /** The fenced block's text. */
  block: string;
  /** The region of the example file it must equal (dedented; every part of the region, in order). */
  source: string;
}

/** What a README holds: its mirrored snippets, and any TypeScript block that mirrors nothing. */
export interface ReadmeCode {
  snippets: ReadmeSnippet[];
  /** The first line of every ```ts block with no `<!-- snippet: … -->` marker right above it. */
  unmarked: string[];
}

const MARKER =
  /<!--\s*snippet:\s*([^#\s]+)#([\w-]+)\s*-->\s*\n```(?:ts|typescript)\n([\s\S]*?)\n```/g;
const TS_BLOCK = /```(?:ts|typescript)\n([\s\S]*?)\n```/g;

/**
 * Reads `README.md` of `packageDir` and pairs each `<!-- snippet: file#region -->` marker's code
 * block with that region of the file: the lines between `// #region name` and
 * `// #endregion name` (a region may come in several parts, joined by a blank line). A test
 * asserts they are equal, and runs the example files themselves: the README then cannot show
 * code that does not compile or run.
 */
export function readmeCode(packageDir: string): ReadmeCode {
  const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
  const snippets: ReadmeSnippet[] = [];
  const marked = new Set<number>();
  for (const match of readme.matchAll(MARKER)) {
    const [, file, region, block] = match as unknown as [string, string, string, string];
    marked.add((match.index ?? 0) + match[0].indexOf('```'));
    snippets.push({
      marker: `${file}#${region}`,
      block,
      source: regionOf(readFileSync(join(packageDir, file), 'utf8'), region, file),
    });
  }
  const unmarked: string[] = [];
  for (const match of readme.matchAll(TS_BLOCK))
    if (!marked.has(match.index ?? 0)) unmarked.push(match[1]?.split('\n')[0] ?? '');
  return { snippets, unmarked };
}

function regionOf(text: string, region: string, file: string): string {
  const parts: string[] = [];
  let current: string[] | undefined;
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === `// #region ${region}`) current = [];
    else if (trimmed === `// #endregion ${region}` && current) {
      parts.push(dedent(current));
      current = undefined;
    } else if (current && !/^\/\/ #(end)?region\b/.test(trimmed)) current.push(line);
  }
  if (parts.length === 0) throw new Error(`${file} has no region "${region}"`);
  return parts.join('\n\n');
}

function dedent(lines: string[]): string {
  const indents = lines
    .filter((line) => line.trim() !== '')
    .map((line) => /^ */.exec(line)?.[0].length ?? 0);
  const cut = Math.min(...indents);
  return lines
    .map((line) => line.slice(cut))
    .join('\n')
    .replace(/^\n+|\n+$/g, '');
}

/**
 * Declares the test every package README gets: each TypeScript block is, word for word, the
 * example-file region its marker names, and no block mirrors nothing. The examples themselves
 * run in the package's own tests.
 */
export function describeReadme(packageDir: string): void {
  describe('README', () => {
    it('shows the example files word for word, and no code that is not one', () => {
      const { snippets, unmarked } = readmeCode(packageDir);
      expect(snippets.length).toBeGreaterThan(0);
      for (const snippet of snippets) expect(snippet.block, snippet.marker).toBe(snippet.source);
      expect(unmarked).toEqual([]);
    });
  });
}
