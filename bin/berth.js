#!/usr/bin/env node
// Entry point: the compiled CLI lives in dist/ (built by `npm install` via the prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(root, 'dist', 'src', 'cli', 'main.js');
if (!existsSync(main)) {
  console.error('berth: not built yet. Run `npm install` (or `npm run build`) in ' + root);
  process.exit(1);
}
await import(main);
