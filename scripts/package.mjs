// Packages the extension: validates every task.json (tfx-cli only warns) and the listing (links,
// repository, branding, licence), stages exactly what ships into <out>/stage with a manifest whose task
// contributions are generated from tasks/*/task.json, with ThirdPartyNotices.txt (the licences of the
// packages each bundle holds, from esbuild's metafile) in every task and at the root, then runs tfx-cli
// to write <out>/<publisher>.<id>-<version>.vsix. Run after `npm run build` (`npm run package` does both).
//
//   node scripts/package.mjs                      public build into dist/
//   node scripts/package.mjs --dev                private dev build: its own extension id, task GUIDs and names
//   options: --version X.Y.Z   extension version of a dev build
//            --patch N         Patch of every task (and of the extension unless --version) in a dev build,
//                              e.g. $(Build.BuildId): agents cache tasks by version
//            --publisher NAME  publisher of a dev build (default: the manifest's)
//            --root DIR        the project (default: this script's parent)
//            --out DIR         where the stage and the VSIX go (default: <root>/dist)
// The sources are never modified: every change a dev build needs is made to the staged copies.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { METAFILE } from './bundle.mjs';
import { checkListing } from './listing.mjs';
import { bundledPackages, noticesText } from './third-party-notices.mjs';
import { executionTargets, parseJson, validateTasks } from './validate-tasks.mjs';
import { zipEntries } from './zip.mjs';

const TASK_CONTRIBUTION = 'ms.vss-distributed-task.task';
export const NOTICES = 'ThirdPartyNotices.txt';
/** Namespace for dev task GUIDs (UUID v5 of the public GUID): fixed, so dev GUIDs never change. */
export const DEV_NAMESPACE = '17672ce6-b6ed-43ac-9006-254e98b047f8';
export const SIZE_GOAL = 1.5 * 1024 * 1024;

export class PackageError extends Error {
  constructor(message, problems = []) {
    super(problems.length ? `${message}\n${problems.map((p) => `  ${p}`).join('\n')}` : message);
    this.problems = problems;
  }
}

/** A name-based (version 5, SHA-1) UUID, as RFC 9562 defines it. */
export function uuidV5(name, namespace = DEV_NAMESPACE) {
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replace(/-/g, ''), 'hex'))
    .update(name, 'utf8')
    .digest()
    .subarray(0, 16);
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** What a dev build changes in a task: GUID, name and display name, optionally the patch. */
export function devTask(task, { patch } = {}) {
  const suffix = ' (Dev)';
  let friendly = String(task.friendlyName);
  if (friendly.length + suffix.length > 40) {
    // Keep within the 40-character limit, cutting at a word boundary where there is one.
    const cut = friendly.slice(0, 40 - suffix.length);
    friendly = (/\s/.test(friendly[cut.length]) || !cut.includes(' ') ? cut : cut.slice(0, cut.lastIndexOf(' '))).trimEnd();
  }
  return {
    ...task,
    id: uuidV5(String(task.id).toLowerCase()),
    name: `${task.name}Dev`,
    friendlyName: `${friendly}${suffix}`,
    instanceNameFormat: `${task.instanceNameFormat}${suffix}`,
    ...(patch === undefined ? {} : { version: { ...task.version, Patch: patch } }),
  };
}

const VERSION = /^\d+\.\d+\.\d+$/;

function readJson(file, rel) {
  if (!existsSync(file)) throw new PackageError(`${rel}: missing`);
  const parsed = parseJson(readFileSync(file, 'utf8'));
  if (parsed.error) throw new PackageError(`${rel}: ${parsed.error}`);
  return parsed.value;
}

/** The manifest to stage: the source manifest plus generated task files and contributions. */
function stagedManifest(source, tasks, { dev, version, publisher }) {
  const problems = [];
  for (const field of ['publisher', 'id', 'version', 'name']) {
    if (typeof source[field] !== 'string' || !source[field]) problems.push(`vss-extension.json: ${field} is missing`);
  }
  if (source.version && !VERSION.test(source.version)) problems.push(`vss-extension.json: version "${source.version}" is not X.Y.Z`);
  const handWritten = (source.contributions ?? []).filter((c) => c?.type === TASK_CONTRIBUTION);
  if (handWritten.length) {
    problems.push(`vss-extension.json: lists task contributions (${handWritten.map((c) => c.id).join(', ')}); they are generated from tasks/*/task.json, remove them`);
  }
  const taskFiles = (source.files ?? []).filter((f) => typeof f?.path === 'string' && /^tasks(\/|$)/.test(f.path));
  if (taskFiles.length) problems.push(`vss-extension.json: lists task folders in files (${taskFiles.map((f) => f.path).join(', ')}); they are generated, remove them`);
  for (const field of ['icons', 'content']) if (!source[field]) problems.push(`vss-extension.json: ${field} is missing`);
  if (problems.length) throw new PackageError('the extension manifest is not valid:', problems);

  const manifest = structuredClone(source);
  if (dev) {
    manifest.id = `${source.id}-dev`;
    manifest.name = `${source.name} (Dev)`;
    manifest.public = false;
    manifest.publisher = publisher ?? source.publisher;
    manifest.galleryFlags = [...new Set([...(source.galleryFlags ?? []).filter((f) => f !== 'Public'), 'Preview'])];
    if (version) manifest.version = version;
  }
  manifest.files = [...(source.files ?? []), { path: NOTICES, addressable: true }, ...tasks.map((t) => ({ path: `tasks/${t.folder}` }))];
  manifest.contributions = [
    ...(source.contributions ?? []),
    ...tasks.map((t) => ({
      id: t.contributionId,
      type: TASK_CONTRIBUTION,
      targets: ['ms.vss-distributed-task.tasks'],
      properties: { name: `tasks/${t.folder}` },
    })),
  ];
  return manifest;
}

/**
 * ThirdPartyNotices.txt of each task (the packages its bundle holds, from the metafile npm run build
 * wrote beside it) and of the whole extension. Throws when a metafile is missing or a licence is not found.
 */
function thirdPartyNotices(root, tasks, name) {
  const metafiles = new Map(tasks.map(({ folder, dir }) => [folder, readJson(path.join(dir, METAFILE), `tasks/${folder}/${METAFILE} (written by npm run build)`)]));
  const packages = (list) => {
    try {
      return bundledPackages(list, root);
    } catch (error) {
      throw new PackageError(`third-party notices: ${error.message}`);
    }
  };
  return {
    all: noticesText(packages([...metafiles.values()]), `${name} (every task)`),
    tasks: new Map([...metafiles].map(([folder, metafile]) => [folder, noticesText(packages([metafile]), `${name}, task ${folder}`)])),
  };
}

/** The Marketplace shows the default icon at 128x128 and refuses a smaller one. */
function checkExtensionIcon(file, rel) {
  const png = readFileSync(file);
  if (png.length < 24 || png.toString('latin1', 1, 4) !== 'PNG') throw new PackageError(`${rel}: the extension icon is not a PNG`);
  const [width, height] = [png.readUInt32BE(16), png.readUInt32BE(20)];
  if (width < 128 || height < 128) throw new PackageError(`${rel}: the extension icon is ${width}x${height}; the Marketplace needs at least 128x128`);
}

function copy(from, to) {
  mkdirSync(path.dirname(to), { recursive: true });
  copyFileSync(from, to);
}

/** Runs tfx-cli; any warning it prints is a failure, since it exits 0 on broken input. */
function runTfx(args, cwd) {
  const require = createRequire(import.meta.url);
  const tfxPackage = require.resolve('tfx-cli/package.json');
  const tfx = path.join(path.dirname(tfxPackage), JSON.parse(readFileSync(tfxPackage, 'utf8')).bin.tfx);
  const result = spawnSync(process.execPath, [tfx, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  // eslint-disable-next-line no-control-regex
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.replace(/\x1b\[[0-9;]*m/g, '').trim();
  if (result.error) throw new PackageError(`tfx-cli could not run: ${result.error.message}`);
  if (result.status !== 0) throw new PackageError(`tfx-cli failed (exit ${result.status}):\n${output}`);
  const warnings = output.split('\n').filter((line) => /warn/i.test(line));
  if (warnings.length) throw new PackageError('tfx-cli reported problems:', warnings);
  return output;
}

/**
 * Packages the extension. Returns { vsix, size, manifest, tasks: [{folder, name, id, version, bytes}], warnings }.
 * Throws PackageError listing every problem when anything is wrong.
 */
export function packageExtension({ root, out, dev = false, version, patch, publisher, log = () => {} }) {
  root = path.resolve(root);
  out = path.resolve(out ?? path.join(root, 'dist'));
  if (!dev && (version !== undefined || patch !== undefined || publisher !== undefined)) {
    throw new PackageError('--version, --patch and --publisher apply to dev builds (--dev); a public build takes its versions from vss-extension.json and task.json');
  }
  if (version !== undefined && !VERSION.test(version)) throw new PackageError(`--version "${version}" is not X.Y.Z`);
  if (patch !== undefined && !/^\d+$/.test(String(patch))) throw new PackageError(`--patch "${patch}" is not a non-negative integer`);
  const patchNumber = patch === undefined ? undefined : Number(patch);
  if (publisher !== undefined && !/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(publisher)) throw new PackageError(`--publisher "${publisher}" is not a publisher id`);

  // 1. Validate the sources: the tasks, the listing, and the licences of what the bundles hold.
  const { tasks, problems, warnings } = validateTasks(root);
  if (problems.length) throw new PackageError(`${problems.length} problem(s) in the tasks, nothing packaged:`, problems);
  const source = readJson(path.join(root, 'vss-extension.json'), 'vss-extension.json');
  const listingCheck = checkListing(source, root);
  if (listingCheck.problems.length) throw new PackageError('the listing is not complete:', listingCheck.problems);
  warnings.push(...listingCheck.warnings);
  const notices = thirdPartyNotices(root, tasks, source.name);

  // 2. Stage exactly what ships.
  const stage = path.join(out, 'stage');
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  const staged = tasks.map(({ folder, dir, task }) => {
    const shipped = dev ? devTask(task, { patch: patchNumber }) : task;
    const stagedFolder = dev ? shipped.name : folder;
    const target = path.join(stage, 'tasks', stagedFolder);
    for (const file of new Set(['icon.png', 'lib.json', ...executionTargets(task)])) {
      if (existsSync(path.join(dir, file))) copy(path.join(dir, file), path.join(target, file));
    }
    writeFileSync(path.join(target, NOTICES), notices.tasks.get(folder));
    if (dev) writeFileSync(path.join(target, 'task.json'), `${JSON.stringify(shipped, null, 2)}\n`);
    else copy(path.join(dir, 'task.json'), path.join(target, 'task.json'));
    return { folder: stagedFolder, contributionId: folder, task: shipped };
  });
  const extensionVersion = dev && version === undefined && patchNumber !== undefined ? source.version?.replace(/\d+$/, String(patchNumber)) : version;
  const manifest = stagedManifest(source, staged, { dev, version: extensionVersion, publisher });
  for (const file of [manifest.icons?.default, manifest.content?.details?.path, manifest.content?.license?.path, ...(source.files ?? []).map((f) => f?.path)]) {
    if (typeof file !== 'string') continue;
    if (!existsSync(path.join(root, file))) throw new PackageError(`vss-extension.json: names ${file}, which does not exist`);
    if (statSync(path.join(root, file)).isFile()) copy(path.join(root, file), path.join(stage, file));
    else throw new PackageError(`vss-extension.json: ${file} is a folder; list files only (task folders are added by packaging)`);
  }
  writeFileSync(path.join(stage, NOTICES), notices.all);
  writeFileSync(path.join(stage, 'vss-extension.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  checkExtensionIcon(path.join(stage, manifest.icons.default), manifest.icons.default);

  // The staged tasks must pass the same checks (a dev build changes names and GUIDs), but for their Learn
  // more links, checked on the sources: a dev build leaves them pointing at the public listing.
  const stagedCheck = validateTasks(stage, null);
  if (stagedCheck.problems.length) throw new PackageError('the staged tasks are not valid:', stagedCheck.problems);

  // 3. tfx-cli writes the VSIX.
  const vsix = path.join(out, `${manifest.publisher}.${manifest.id}-${manifest.version}.vsix`);
  rmSync(vsix, { force: true });
  log(`tfx extension create (${dev ? 'dev' : 'public'}) from ${path.relative(root, stage) || stage}`);
  try {
    runTfx(['extension', 'create', '--root', stage, '--manifest-globs', 'vss-extension.json', '--output-path', vsix, '--no-prompt'], stage);
    if (!existsSync(vsix)) throw new PackageError(`tfx-cli reported success but wrote no ${vsix}`);

    // 4. Check that everything staged is in the VSIX.
    const entries = new Set(zipEntries(vsix).map((e) => e.name));
    const expected = [
      NOTICES,
      source.content.license.path,
      ...staged.flatMap(({ folder, task }) => ['task.json', 'icon.png', 'lib.json', NOTICES, ...executionTargets(task)].map((file) => `tasks/${folder}/${file}`)),
    ];
    const missing = expected.filter((name) => !entries.has(name));
    if (missing.length) throw new PackageError(`${vsix} lacks staged files:`, missing);
  } catch (error) {
    rmSync(vsix, { force: true }); // a VSIX from a failed packaging must not be mistaken for a good one
    throw error;
  }

  const size = statSync(vsix).size;
  if (size > SIZE_GOAL) warnings.push(`${path.basename(vsix)}: ${(size / 1024).toFixed(0)} KiB is over the ${SIZE_GOAL / 1024} KiB goal; look for a task bundling more than it uses`);
  return {
    vsix,
    size,
    manifest,
    warnings,
    tasks: staged.map(({ folder, task }) => ({
      folder,
      name: task.name,
      id: task.id,
      version: `${task.version.Major}.${task.version.Minor}.${task.version.Patch}`,
      bytes: executionTargets(task).reduce((sum, file) => sum + statSync(path.join(stage, 'tasks', folder, file)).size, 0),
    })),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let options;
  try {
    ({ values: options } = parseArgs({
      options: {
        dev: { type: 'boolean', default: false },
        version: { type: 'string' },
        patch: { type: 'string' },
        publisher: { type: 'string' },
        root: { type: 'string' },
        out: { type: 'string' },
      },
    }));
  } catch (error) {
    console.error(`package: ${error.message}`);
    process.exit(2);
  }
  const root = path.resolve(options.root ?? path.join(import.meta.dirname, '..'));
  try {
    const result = packageExtension({ ...options, root, log: (line) => console.log(line) });
    for (const warning of result.warnings) console.warn(`warning: ${warning}`);
    const { manifest } = result;
    console.log(`${path.relative(process.cwd(), result.vsix) || result.vsix}  (${(result.size / 1024).toFixed(1)} KiB)`);
    console.log(`  extension ${manifest.publisher}.${manifest.id} ${manifest.version}${manifest.public ? '' : ', private'}: ${manifest.name}`);
    for (const task of result.tasks) console.log(`  task ${task.name}@${task.version}  ${task.id}  (bundle ${(task.bytes / 1024).toFixed(1)} KiB)`);
  } catch (error) {
    if (!(error instanceof PackageError)) throw error;
    console.error(`package: ${error.message}`);
    process.exit(1);
  }
}
