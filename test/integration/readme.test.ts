/**
 * The README is the reference users read: its error table lists exactly the codes of the
 * error registry, and its configuration table every environment variable the schema reads.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ENV_NAMES } from '../../src/config.js';
import { ERRORS } from '../../src/errors.js';

const README = fs.readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../README.md'), 'utf8');

function section(title: string): string {
  const start = README.indexOf(`## ${title}\n`);
  expect(start, title).toBeGreaterThanOrEqual(0);
  const end = README.indexOf('\n## ', start + 3);
  return README.slice(start, end < 0 ? undefined : end);
}

describe('README', () => {
  it('error table: the registry codes, no more and no fewer', () => {
    const table = [...section('Error codes').matchAll(/^\| `(CALLTAPE_ERR_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect(new Set(table).size).toBe(table.length);
    expect([...table].sort()).toEqual(Object.keys(ERRORS).sort());
  });

  it("error table: each code's effect column says what the registry's effect, status and close code are", () => {
    const rows = new Map([...section('Error codes').matchAll(/^\| `(CALLTAPE_ERR_[A-Z0-9_]+)` \| .* \| (.*) \|$/gm)].map((m) => [m[1]!, m[2]!]));
    const wrong: string[] = [];
    for (const [code, spec] of Object.entries(ERRORS) as Array<[keyof typeof ERRORS, (typeof ERRORS)[keyof typeof ERRORS] & { wsCloseCode?: number }]>) {
      const text = rows.get(code) ?? '';
      const says = {
        dropped: /dropped|ignored/.test(text),
        closed: spec.wsCloseCode === undefined ? /closed/.test(text) : text.includes(`closed ${spec.wsCloseCode}`),
        refused: text.includes(`HTTP ${spec.httpStatus}`) || text.includes(`answered ${spec.httpStatus}`),
        failed: /failed/.test(text),
        logged: /logged|counted|not recorded/.test(text),
        startup: /does not start/.test(text),
      }[spec.effect];
      if (!says) wrong.push(`${code} (${spec.effect}): ${text}`);
    }
    expect(wrong).toEqual([]);
  });

  it('configuration table: every variable', () => {
    const table = new Set([...section('Configuration').matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]));
    expect(Object.values(ENV_NAMES).filter((name) => !table.has(name))).toEqual([]);
  });
});

describe('README examples', () => {
  it('the embedding example is examples/embed-ws.ts as the suite runs it', () => {
    const file = fs.readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples/embed-ws.ts'), 'utf8');
    const code = file.slice(file.indexOf('*/\n') + 3);
    expect(README).toContain(`\`\`\`ts\n${code}\`\`\``);
  });
});
