// Third-party licence notices for what a bundle holds. esbuild's metafile lists every input file it
// bundled; each one under node_modules belongs to a package, whose name, version and licence text (its
// LICENSE/LICENCE/COPYING file, else the License section of its README) go into ThirdPartyNotices.txt.
// A bundled package whose licence cannot be found is an error: its code cannot ship without it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

const LICENSE_FILE = /^(licen[cs]e|copying)([.-].*)?$/i;
const RULE = '='.repeat(80);

/** The folder of the package an input file belongs to (the part up to its last node_modules/<name>), or undefined for project code. */
export function packageDir(input) {
  const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input.replace(/\\/g, '/'));
  return match?.[1];
}

/** The License section of a README: from a heading naming the licence to the next heading of the same or a higher level. */
function readmeLicense(dir) {
  const readme = readdirSync(dir).find((name) => /^readme(\.md|\.markdown|\.txt)?$/i.test(name));
  if (!readme) return undefined;
  const lines = readFileSync(path.join(dir, readme), 'utf8').split(/\r?\n/);
  const start = lines.findIndex((line) => /^#{1,6}\s*licen[cs]e\s*$/i.test(line.trim()));
  if (start < 0) return undefined;
  const level = /^#+/.exec(lines[start].trim())[0].length;
  const end = lines.findIndex((line, i) => i > start && new RegExp(`^#{1,${level}}\\s`).test(line));
  const text = lines.slice(start + 1, end < 0 ? undefined : end).join('\n').trim();
  return text || undefined;
}

/** { name, version, license, text } of the package in `dir`; text undefined when no licence is found. */
export function readPackage(dir) {
  const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const files = readdirSync(dir).filter((name) => LICENSE_FILE.test(name)).sort();
  const text = files.length ? files.map((name) => readFileSync(path.join(dir, name), 'utf8').trim()).join('\n\n') : readmeLicense(dir);
  const license = typeof manifest.license === 'string' ? manifest.license : manifest.license?.type;
  return { name: manifest.name, version: manifest.version, license: license ?? 'unknown', text };
}

/**
 * The packages behind the inputs of esbuild metafiles, resolved against `root` (where esbuild ran),
 * sorted by name and version. Throws, naming each one, when a package's licence cannot be found.
 */
export function bundledPackages(metafiles, root) {
  const dirs = new Set();
  for (const metafile of metafiles) {
    for (const input of Object.keys(metafile.inputs)) {
      const dir = packageDir(input);
      if (dir) dirs.add(path.resolve(root, dir));
    }
  }
  const packages = new Map();
  for (const dir of dirs) {
    if (!existsSync(path.join(dir, 'package.json'))) throw new Error(`${path.relative(root, dir)}: bundled, but has no package.json to name it`);
    const found = readPackage(dir);
    packages.set(`${found.name}@${found.version}`, found);
  }
  const list = [...packages.values()].sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version, undefined, { numeric: true }));
  const unlicensed = list.filter((p) => !p.text);
  if (unlicensed.length) {
    throw new Error(
      `no licence text found for ${unlicensed.map((p) => `${p.name}@${p.version} (license: ${p.license})`).join(', ')}: ` +
        'it has no LICENSE file and no License section in its README, and its code cannot ship without its licence text',
    );
  }
  return list;
}

/** ThirdPartyNotices.txt: a heading saying what it covers, then each package with its licence text. */
export function noticesText(packages, what) {
  const head = [
    `Third-party notices: ${what}`,
    '',
    'This software includes the open-source packages below, bundled into its task scripts. Each is',
    'distributed under its own licence, reproduced here as the package ships it.',
    '',
  ];
  const body = packages.flatMap((p) => [RULE, `${p.name} ${p.version} (${p.license})`, RULE, '', p.text, '']);
  return `${[...head, ...body].join('\n')}`;
}
