/**
 * Every package `npm ci` installs supports the Node versions the README promises (20.19+ and
 * 22): a dependency that declares a newer engine makes `npm ci` warn EBADENGINE, and may use
 * APIs those Nodes lack (cookie 2 through light-my-request was one; package.json overrides it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[]; dev?: boolean; optional?: boolean }>;
};

describe('engines', () => {
  it.each(['20.19.0', '22.13.0'])('every installed package accepts Node %s', (node) => {
    const refusing = Object.entries(lock.packages)
      .filter(([name, pkg]) => name !== '' && !Array.isArray(pkg.engines) && pkg.engines?.node && !semver.satisfies(node, pkg.engines.node))
      .map(([name, pkg]) => `${name.replace(/^node_modules\//, '')}@${pkg.version}: node ${(pkg.engines as { node: string }).node}`);
    expect(refusing).toEqual([]);
  });
});
