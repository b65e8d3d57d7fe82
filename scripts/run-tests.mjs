// Runs compiled tests with node's own test runner.
//   unit:        dist/src/**/*.test.js  (pure, fast, no Docker)
//   integration: dist/test/**/*.test.js (real server processes, SDK, CLI, Docker)
// Node 20's --test takes no globs, so the files are listed here.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const kind = process.argv[2] ?? 'unit';
const root = kind === 'unit' ? 'dist/src' : 'dist/test';
const filter = process.argv[3];

function walk(dir) {
  let out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(walk(p));
    else if (name.endsWith('.test.js') && (!filter || p.includes(filter))) out.push(p);
  }
  return out;
}

const files = walk(root).sort();
if (files.length === 0) {
  console.error(`no ${kind} tests found under ${root}`);
  process.exit(1);
}
const concurrency = kind === 'unit' ? '2' : '1';
const r = spawnSync(
  process.execPath,
  ['--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
  { stdio: 'inherit' },
);
process.exit(r.status ?? 1);
