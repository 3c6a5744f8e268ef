// `npm run package`: production bundles, then a .vsix with @vscode/vsce,
// keeping it lean through .vscodeignore. Prints the file's size.
//   node scripts/package.mjs [--out FILE]
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);
const pkg = require(path.join(root, 'package.json'));
const outIndex = process.argv.indexOf('--out');
const out = outIndex > 0 ? path.resolve(process.argv[outIndex + 1]) : path.join(root, `${pkg.name}-${pkg.version}.vsix`);

execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), '--production'], { stdio: 'inherit', cwd: root });
const vsce = path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
execFileSync(process.execPath, [vsce, 'package', '--out', out, '--allow-missing-repository', '--skip-license', '--no-rewrite-relative-links'], {
  stdio: ['ignore', 'inherit', 'inherit'],
  cwd: root,
});
const bytes = statSync(out).size;
console.log(`packaged ${out}: ${(bytes / 1024 / 1024).toFixed(1)} MiB (${bytes} bytes)`);
