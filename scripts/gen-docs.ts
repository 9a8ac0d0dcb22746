// Writes docs/language.md from the catalogue. Run with `npm run docs` (after the build).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderLanguageReference } from '../src/compiler/docs.js';

function repoRoot(): string {
  // Compiled to dist/scripts/ or run from scripts/: walk up to the folder with package.json.
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}

const target = path.join(repoRoot(), 'docs', 'language.md');
fs.mkdirSync(path.dirname(target), { recursive: true });
fs.writeFileSync(target, renderLanguageReference());
console.log(`wrote ${target}`);
