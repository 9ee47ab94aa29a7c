import * as assert from 'node:assert/strict';
import { promises as fs, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildRustContainers } from '../../shared/flows/build-containers';
import { formatError, UserError } from '../../shared/errors';
import { updateGitOps } from '../../shared/flows/update-gitops';
import { parseList } from '../../shared/inputs';
import { lockDiff } from '../../shared/pr/changes';
import { tagComponents } from '../../shared/flows/tag-components';
import { imageTag } from '../../shared/images/names';
import { MemoryAgent } from '../helpers/memory-agent';
import { repoRoot } from '../helpers/run-task';
import { guardChildProcesses, type ChildCall } from './child-guard';
import { aliasBomb, CLEAN_APP, hostileCorpus, type FileSpec, type HostileCase } from './corpus';
import { Sandbox, SENTINEL, snapshot } from './sandbox';

/** Words that mean a message was built from a value that was not there or not a string. */
const GARBAGE = ['undefined', '[object Object]', 'NaN', 'function Object', '[native code]', 'Maximum call stack'];

/** The checks every error a user sees must pass; `file` is the repository-relative file it must name. */
export function assertClearError(error: unknown, repo: string | undefined, expect: { error?: RegExp; file?: string }): void {
  assert.ok(error instanceof UserError, `not a UserError (a crash): ${(error as Error)?.stack ?? String(error)}`);
  const text = formatError(error);
  assert.ok(text.trim().length > 10, `empty message: ${JSON.stringify(text)}`);
  assert.doesNotMatch(text, /\n\s+at .+:\d+:\d+/, 'a stack trace in the message');
  for (const word of GARBAGE) assert.ok(!text.includes(word), `'${word}' in the message: ${text.slice(0, 500)}`);
  const room = 1000 + (repo?.length ?? 0) * 4;
  assert.ok(text.length < room, `message of ${text.length} characters: ${text.slice(0, 300)}...`);
  if (expect.error) assert.match(text, expect.error);
  if (expect.file) {
    assert.ok(error.where?.file, `the message names no file: ${text.slice(0, 300)}`);
    if (repo) assert.equal(path.resolve(repo, error.where.file), path.join(repo, expect.file), `names ${error.where.file}`);
    else assert.equal(error.where.file, expect.file);
  }
}

function assertClearLog(log: MemoryAgent): void {
  for (const { message } of log.warnings) {
    for (const word of GARBAGE) assert.ok(!message.includes(word), `'${word}' in a warning: ${message.slice(0, 300)}`);
    assert.ok(message.length < 2000, `warning of ${message.length} characters`);
  }
}

/** Paths whose snapshot line differs (added, removed or changed), sorted. */
function changedFiles(before: string, after: string): string[] {
  const a = new Set(before.split('\n'));
  const b = new Set(after.split('\n'));
  const paths = [...[...a].filter((l) => !b.has(l)), ...[...b].filter((l) => !a.has(l))].map((l) => l.split(' ')[0]);
  return [...new Set(paths)].filter(Boolean).sort();
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

async function attempt(body: () => Promise<unknown> | unknown): Promise<Outcome> {
  try {
    return { ok: true, value: await body() };
  } catch (error) {
    return { ok: false, error };
  }
}

describe('reliability: hostile input', function () {
  const corpus = hostileCorpus();
  const calls: ChildCall[] = [];
  let restore: () => void = () => undefined;
  let sandbox: Sandbox;
  /** Repositories shared by cases with the same (immutable) files: every TagComponents case is a dry run. */
  const shared = new Map<Record<string, FileSpec>, string>();

  before(async () => {
    sandbox = await Sandbox.create(SENTINEL);
    restore = guardChildProcesses((call) => calls.push(call));
  });
  after(async () => {
    restore();
    await sandbox?.dispose();
  });

  it('has at least 200 generated cases covering every kind of hostility', () => {
    assert.ok(corpus.length >= 200, `${corpus.length} cases`);
    const kinds = new Set(corpus.map((c) => c.kind));
    for (const kind of [
      'shell-metacharacters-in-name',
      'shell-metacharacters-in-tag',
      'plus-and-dotdot-in-tag',
      'wrong-type',
      'duplicate-keys',
      'invalid-toml',
      'non-utf8',
      'bom',
      'empty-or-comments',
      'deeply-nested',
      'huge-file',
      'long-name',
      'outside-path',
      'symlink',
      'regex-blowup',
    ]) {
      assert.ok(kinds.has(kind), `no case of kind ${kind}`);
    }
  });

  async function runCase(c: HostileCase): Promise<void> {
    if (c.target === 'image-tag') {
      const inputs = c.inputs ?? {};
      const outcome = await attempt(() => imageTag(inputs.version ?? '1.4.2', { format: inputs.imageTagFormat, preRelease: inputs.preRelease }));
      check(c, outcome, undefined, (value) => {
        if ('imageTag' in c.expect) assert.equal(value, c.expect.imageTag);
      });
      return;
    }
    if (c.target === 'build-plan') return runBuildPlan(c);
    if (c.target === 'gitops') return runGitOps(c);
    const files = c.files ?? CLEAN_APP;
    let repo = shared.get(files);
    const reusable = files === CLEAN_APP;
    if (!repo) {
      // A case that must fail reading a Cargo.toml fails before TagComponents looks at commits: git init is enough.
      repo = await sandbox.gitRepo(files, !('error' in c.expect && c.expect.file && !c.inputs));
      if (reusable) shared.set(files, repo);
    }
    try {
      const before = await snapshot(repo, ['.git/index', '.git/objects']);
      const log = new MemoryAgent();
      const outcome = await attempt(() => tagComponents({ componentsPath: repo, push: false, dryRun: true, ...c.inputs }, log));
      check(c, outcome, repo, (value) => {
        const result = value as Awaited<ReturnType<typeof tagComponents>>;
        const got = result.components.map((x) => [x.name, x.version, x.tag]).sort((a, b) => (a[0] < b[0] ? -1 : 1));
        if ('tags' in c.expect) assert.deepEqual(got, c.expect.tags);
      });
      assertClearLog(log);
      // A dry run changes nothing, inside the repository (its .git included) or outside it.
      assert.equal(await snapshot(repo, ['.git/index', '.git/objects']), before, 'the dry run changed the repository');
      await sandbox.verify([...shared.values(), repo]);
    } finally {
      if (!reusable) await sandbox.remove(repo);
    }
  }

  /** BuildRustContainers in plan mode, push off: no registry, no builder, nothing written. */
  async function runBuildPlan(c: HostileCase): Promise<void> {
    const repo = await sandbox.repo(c.files ?? {});
    try {
      const before = await snapshot(repo);
      const log = new MemoryAgent();
      const outcome = await attempt(() =>
        buildRustContainers(
          {
            componentsPath: repo,
            registry: 'localhost:5000',
            mode: 'plan',
            push: false,
            dockerfile: 'Dockerfile',
            manifestPath: '',
            ...c.inputs,
            // As the task reads them: lists from multiLine/comma inputs, one build argument a line.
            platforms: parseList(c.inputs?.platforms),
            additionalTags: parseList(c.inputs?.additionalTags),
            buildArgs: (c.inputs?.buildArgs ?? '').split(/\r?\n/).filter((line) => line.trim()),
          },
          log,
        ),
      );
      if ('planned' in c.expect && !outcome.ok) {
        // A name or version Cargo accepts that an image reference cannot carry: refused, saying why.
        assertClearError(outcome.error, repo, { error: /is not a valid image (repository|tag)|contains '\+'/ });
      } else {
        check(c, outcome, repo, (value) => {
          const result = value as Awaited<ReturnType<typeof buildRustContainers>>;
          if (!('planned' in c.expect)) return;
          const got = result.images.map((i) => [i.component, i.version, i.tags[0], i.status]).sort((a, b) => (a[0] < b[0] ? -1 : 1));
          const tag = (version: string) => `v${version}${c.inputs?.preRelease ? `-${c.inputs.preRelease}` : ''}`;
          assert.deepEqual(got, c.expect.planned.map(([name, version]) => [name, version, tag(version), 'planned']));
        });
      }
      assertClearLog(log);
      assert.equal(await snapshot(repo), before, 'plan mode changed the repository');
      await sandbox.verify([...shared.values(), repo]);
    } finally {
      await sandbox.remove(repo);
    }
  }

  /** UpdateGitOpsVersions from `images` lines, digests not pinned (no registry): all or nothing, inside the repository. */
  async function runGitOps(c: HostileCase): Promise<void> {
    const repo = await sandbox.repo(c.files ?? {});
    try {
      const before = await snapshot(repo);
      const log = new MemoryAgent();
      const inputs = c.inputs ?? {};
      const outcome = await attempt(() =>
        updateGitOps(
          {
            gitopsPath: repo,
            environment: inputs.environment ?? 'devtest',
            lockFile: inputs.lockFile,
            manifestsPath: inputs.manifestsPath,
            images: parseList(inputs.images ?? 'heuristic=v1.4.3'),
            components: inputs.components,
            pinDigest: false,
          },
          log,
        ),
      );
      check(c, outcome, repo, (value) => {
        const result = value as Awaited<ReturnType<typeof updateGitOps>>;
        if ('written' in c.expect) assert.deepEqual(result.files, c.expect.written);
      });
      assertClearLog(log);
      const after = await snapshot(repo);
      const changed = changedFiles(before, after);
      if (outcome.ok) {
        // Only the files it reports, each replaced whole (no temp file left beside it).
        assert.deepEqual(changed, (outcome.value as { files: string[] }).files.map((f) => path.normalize(f)).sort());
      } else assert.deepEqual(changed, [], 'a failed update wrote files');
      await sandbox.verify([...shared.values(), repo]);
    } finally {
      await sandbox.remove(repo);
    }
  }

  function check(c: HostileCase, outcome: Outcome, repo: string | undefined, result: (value: unknown) => void): void {
    if (outcome.ok) {
      assert.ok(!('error' in c.expect), `expected an error matching ${'error' in c.expect ? c.expect.error : ''}, got ${JSON.stringify(outcome.value)?.slice(0, 300)}`);
      result(outcome.value);
    } else {
      assert.ok(!('tags' in c.expect) && !('imageTag' in c.expect) && !('planned' in c.expect), `expected a result, got: ${formatError(outcome.error).slice(0, 500)}\n${(outcome.error as Error)?.stack ?? ''}`);
      assertClearError(outcome.error, repo, 'error' in c.expect ? c.expect : {});
    }
  }

  for (const c of corpus) {
    it(`${c.kind}: ${c.id}`, async () => runCase(c));
  }

  it('started every child process without a shell (traced in process)', () => {
    assert.ok(calls.length > 100, `only ${calls.length} child processes were traced: is the guard in place?`);
    assert.ok(calls.some((call) => call.command === 'git'), 'git was traced');
    const viaShell = calls.filter((call) => call.shell);
    assert.deepEqual(viaShell, [], 'processes started through a shell');
    assert.deepEqual([...new Set(calls.map((call) => call.api))], ['spawn'], 'only spawn is used');
  });
});

describe('reliability: no shell, no YAML alias expansion in the shipped code', () => {
  /** TypeScript and ES module sources under `dir`. */
  function sources(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return sources(full);
      return entry.name.endsWith('.ts') || entry.name.endsWith('.mjs') ? [full] : [];
    });
  }

  it('never calls exec/execSync, never sets shell, imports only spawn from child_process', () => {
    // What ships (shared/, tasks/) and what runs it here (tools/: the local agent and runner; scripts/: build and packaging).
    const files = ['shared', 'tasks', 'tools', 'scripts'].flatMap((dir) => sources(path.join(repoRoot, dir)));
    assert.ok(files.length > 10, `${files.length} source files`);
    const problems: string[] = [];
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      const rel = path.relative(repoRoot, file);
      // `.exec(` is RegExp.prototype.exec; a bare exec( / execSync( is child_process.
      for (const match of text.matchAll(/(?<![.\w])(exec|execSync|execFile|execFileSync)\s*\(/g)) problems.push(`${rel}: ${match[0]}`);
      for (const match of text.matchAll(/shell\s*:\s*(?!false\b)[^,}\s]+/g)) problems.push(`${rel}: ${match[0]}`);
      for (const match of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'(?:node:)?child_process'/g)) {
        const names = match[1].split(',').map((n) => n.trim().split(/\s+as\s+/)[0]).filter(Boolean);
        for (const name of names.filter((n) => !['spawn', 'spawnSync', 'type SpawnOptions', 'ChildProcess'].includes(n))) problems.push(`${rel}: imports ${name}`);
      }
      // Shipped code names what it uses (the local agent's PATH shims may require the module in generated code).
      const shipped = rel.startsWith('shared') || rel.startsWith('tasks');
      if (shipped && /require\(\s*'(?:node:)?child_process'\s*\)|import\s+\*\s+as\s+\w+\s+from\s+'(?:node:)?child_process'/.test(text)) problems.push(`${rel}: takes the whole child_process module`);
    }
    assert.deepEqual(problems, []);
  });

  it('never expands a YAML alias: no parsed document is turned into JavaScript values (toJS), so alias bombs stay small', () => {
    const files = sources(path.join(repoRoot, 'shared'));
    const expanding: string[] = [];
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      const rel = path.relative(repoRoot, file);
      for (const match of text.matchAll(/\.toJS\(|\.toJSON\(|YAML\.parse\(|\bparse as \w+ \}? ?from 'yaml'|import \{[^}]*\bparse\b[^}]*\} from 'yaml'/g)) expanding.push(`${rel}: ${match[0]}`);
    }
    // yaml-text.ts parses one scalar it is about to write (a tag or digest it validated) to choose its quoting.
    const allowed = [path.join('shared', 'updaters', 'yaml-text.ts')];
    assert.deepEqual(
      expanding.filter((hit) => !allowed.some((file) => hit.startsWith(`${file}:`))),
      [],
      'a YAML document is converted to JavaScript: set maxAliasCount and turn its error into a UserError naming the file',
    );
  });

  it('CreateEnvPR reading the lock diff never expands an alias bomb: a UserError naming the lock and line', () => {
    const bomb = `schemaVersion: 1\nenvironments:\n${aliasBomb(12).replace(/^(?=.)/gm, '  ')}  devtest: *lol12\n`;
    assert.throws(
      () => lockDiff(undefined, bomb, 'devtest', 'versions.yaml'),
      (error: unknown) => {
        assertClearError(error, undefined, { error: /environment 'lol0' must be a mapping of components/, file: 'versions.yaml' });
        assert.equal((error as UserError).where?.line, 3);
        return true;
      },
    );
    // (Expanded, its 9^12 nodes would exhaust the heap long before the test's timeout.)
  });

  it('the guard used above does see a shell when one is used (the check can fail)', async () => {
    const seen: ChildCall[] = [];
    const undo = guardChildProcesses((call) => seen.push(call));
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const cp = require('node:child_process') as typeof import('node:child_process');
      cp.spawnSync('true', [], { shell: true });
      cp.execSync('true');
    } finally {
      undo();
    }
    assert.deepEqual(
      seen.map((c) => [c.api, c.shell]),
      [
        ['spawnSync', true],
        ['execSync', true],
      ],
    );
    await fs.access(__filename);
  });
});
