// Packaging as a user runs it: `node scripts/package.mjs` (what `npm run package` calls after the
// build) writes a VSIX with tfx-cli, fails on a broken task.json naming the file and the problem, and
// the dev flavour ships its own identities without touching the sources.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../../helpers/run-task';
import { openZip, pngSize } from './zip';

interface Manifest {
  publisher: string;
  id: string;
  version: string;
  name: string;
  public?: boolean;
  contributions?: { id: string; type: string; properties: { name: string } }[];
}
interface TaskJson {
  id: string;
  name: string;
  friendlyName: string;
  version: { Major: number; Minor: number; Patch: number };
  inputs: { name: string; visibleRule?: string }[];
  execution: Record<string, { target: string }>;
  [key: string]: unknown;
}

const temps: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

function packageCli(args: string[], root = repoRoot) {
  const result = spawnSync(process.execPath, [path.join(root, 'scripts', 'package.mjs'), ...args], { cwd: root, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, output: `${result.stdout}${result.stderr}` };
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;
const sourceManifest = () => readJson<Manifest>(path.join(repoRoot, 'vss-extension.json'));
const taskFolders = (root: string) =>
  readdirSync(path.join(root, 'tasks')).filter((name) => existsSync(path.join(root, 'tasks', name, 'task.json'))).sort();

/** A copy of what packaging reads (tasks with their bundles, scripts, manifest, images), node_modules linked. */
function copyProject(): string {
  const root = tempDir('package-copy-');
  for (const entry of ['tasks', 'scripts', 'images', 'vss-extension.json', 'overview.md', 'LICENSE']) {
    cpSync(path.join(repoRoot, entry), path.join(root, entry), { recursive: true });
  }
  symlinkSync(realpathSync(path.join(repoRoot, 'node_modules')), path.join(root, 'node_modules'), 'dir');
  return root;
}

function editTask(root: string, task: string, edit: (json: TaskJson) => void): string {
  const file = path.join(root, 'tasks', task, 'task.json');
  const json = readJson<TaskJson>(file);
  edit(json);
  writeFileSync(file, JSON.stringify(json, null, 2));
  return file;
}

/** A hash of every file under the given paths, to show packaging changed none of them. */
function snapshot(root: string, entries: string[]): string {
  const hash = createHash('sha256');
  const walk = (p: string) => {
    if (statSync(p).isDirectory()) for (const child of readdirSync(p).sort()) walk(path.join(p, child));
    else hash.update(path.relative(root, p)).update(readFileSync(p));
  };
  for (const entry of entries) walk(path.join(root, entry));
  return hash.digest('hex');
}

function vsixFiles(out: string): string[] {
  return readdirSync(out).filter((name) => name.endsWith('.vsix'));
}

describe('packaging (scripts/package.mjs)', function () {
  before(function () {
    for (const task of taskFolders(repoRoot)) {
      assert.ok(existsSync(path.join(repoRoot, 'tasks', task, 'index.js')), `tasks/${task}/index.js is missing: run npm run build first`);
    }
  });

  after(function () {
    for (const dir of temps) rmSync(dir, { recursive: true, force: true });
  });

  describe('the public build', function () {
    let out: string;
    let run: ReturnType<typeof packageCli>;
    let sourcesBefore: string;

    before(function () {
      out = tempDir('package-out-');
      sourcesBefore = snapshot(repoRoot, ['tasks', 'vss-extension.json', 'overview.md', 'images']);
      run = packageCli(['--out', out]);
    });

    it('writes <publisher>.<id>-<version>.vsix and reports it', function () {
      assert.equal(run.status, 0, run.output);
      const manifest = sourceManifest();
      const name = `${manifest.publisher}.${manifest.id}-${manifest.version}.vsix`;
      assert.deepEqual(vsixFiles(out), [name]);
      assert.match(run.stdout, new RegExp(name.replace(/\./g, '\\.')));
      for (const task of taskFolders(repoRoot)) assert.match(run.stdout, new RegExp(`task ${task}@`));
    });

    it('ships every task with its bundle, lib.json, task.json, icon and third-party notices, the licence, and nothing else', function () {
      const manifest = sourceManifest();
      const zip = openZip(path.join(out, `${manifest.publisher}.${manifest.id}-${manifest.version}.vsix`));
      const files = zip.names.filter((name) => !name.endsWith('/'));
      const tasks = taskFolders(repoRoot);
      assert.ok(tasks.includes('TagComponents'));
      const expected = [
        '[Content_Types].xml',
        'extension.vsixmanifest',
        'extension.vsomanifest',
        'overview.md',
        'LICENSE',
        'ThirdPartyNotices.txt',
        'images/extension-icon.png',
        ...tasks.flatMap((task) => ['index.js', 'lib.json', 'task.json', 'icon.png', 'ThirdPartyNotices.txt'].map((file) => `tasks/${task}/${file}`)),
      ];
      assert.deepEqual([...files].sort(), [...expected].sort());
      for (const task of tasks) {
        for (const file of ['index.js', 'task.json', 'icon.png']) {
          assert.ok(zip.read(`tasks/${task}/${file}`).equals(readFileSync(path.join(repoRoot, 'tasks', task, file))), `tasks/${task}/${file} differs from the source`);
        }
        assert.ok(pngSize(zip.read(`tasks/${task}/icon.png`)).width >= 32);
      }
      assert.deepEqual(pngSize(zip.read('images/extension-icon.png')), { width: 128, height: 128 });
      assert.equal(zip.read('overview.md').toString(), readFileSync(path.join(repoRoot, 'overview.md'), 'utf8'));
    });

    it('declares one task contribution per task folder, generated from tasks/*/task.json', function () {
      const manifest = sourceManifest();
      const zip = openZip(path.join(out, `${manifest.publisher}.${manifest.id}-${manifest.version}.vsix`));
      const vso = JSON.parse(zip.read('extension.vsomanifest').toString()) as Manifest;
      const taskContributions = (vso.contributions ?? []).filter((c) => c.type === 'ms.vss-distributed-task.task');
      assert.deepEqual(taskContributions.map((c) => c.properties.name).sort(), taskFolders(repoRoot).map((t) => `tasks/${t}`));
      const vsix = zip.read('extension.vsixmanifest').toString();
      assert.match(vsix, new RegExp(`<Identity [^>]*Publisher="${manifest.publisher}" Id="${manifest.id}" Version="${manifest.version}"`));
      assert.match(vsix, /Microsoft\.VisualStudio\.Services\.Icons\.Default[^>]*Path="images\/extension-icon\.png"/);
      assert.match(vsix, /Microsoft\.VisualStudio\.Services\.Content\.Details[^>]*Path="overview\.md"/);
    });

    it('holds the licence text of every package the bundles hold: all of them at the root, each task its own', function () {
      const manifest = sourceManifest();
      const zip = openZip(path.join(out, `${manifest.publisher}.${manifest.id}-${manifest.version}.vsix`));
      const notices = (name: string) => zip.read(name).toString();
      /** The packages of a task's bundle by esbuild's own account: the node_modules folders of its inputs. */
      const bundled = (task: string) => {
        const metafile = readJson<{ inputs: Record<string, unknown> }>(path.join(repoRoot, 'tasks', task, 'index.meta.json'));
        const dirs = new Set(Object.keys(metafile.inputs).flatMap((input) => /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input)?.[1] ?? []));
        return [...dirs].map((dir) => readJson<{ name: string; version: string }>(path.join(repoRoot, dir, 'package.json')));
      };
      const heading = (p: { name: string; version: string }) => new RegExp(`^${p.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} ${p.version.replace(/\./g, '\\.')} \\(`, 'm');
      const all = notices('ThirdPartyNotices.txt');
      for (const task of taskFolders(repoRoot)) {
        const packages = bundled(task);
        assert.ok(packages.length > 0, `${task} bundles packages`);
        for (const p of packages) {
          assert.match(notices(`tasks/${task}/ThirdPartyNotices.txt`), heading(p), `${task}: ${p.name}`);
          assert.match(all, heading(p), p.name);
        }
        assert.equal(notices(`tasks/${task}/ThirdPartyNotices.txt`).split('\n').filter((line) => /^={80}$/.test(line)).length, 2 * packages.length, `${task}: only its own packages`);
      }
      // The texts themselves: a LICENSE file as the package ships it, and a licence only a README states.
      assert.ok(all.includes(readFileSync(path.join(repoRoot, 'node_modules', 'azure-pipelines-task-lib', 'LICENSE'), 'utf8').trim()));
      assert.match(all, /^des\.js 1\.1\.0 \(MIT\)\n={80}\n\nThis software is licensed under the MIT License\.\n\nCopyright Fedor Indutny, 2015\./m);
      assert.doesNotMatch(notices('tasks/TagComponents/ThirdPartyNotices.txt'), /^azure-devops-node-api /m, 'TagComponents does not bundle the REST client');
      assert.match(notices('tasks/CreateEnvPR/ThirdPartyNotices.txt'), /^azure-devops-node-api 17\.0\.1 \(MIT\)$/m);
      assert.equal(zip.read('LICENSE').toString(), readFileSync(path.join(repoRoot, 'LICENSE'), 'utf8'));
    });

    it('has the links, repository, branding and licence a platform team looks for, and says which are placeholders', function () {
      const manifest = sourceManifest();
      const vsix = openZip(path.join(out, `${manifest.publisher}.${manifest.id}-${manifest.version}.vsix`)).read('extension.vsixmanifest').toString();
      const property = (id: string) => new RegExp(`<Property Id="Microsoft\\.VisualStudio\\.Services\\.${id}" Value="([^"]+)"`).exec(vsix)?.[1];
      const listing = `https://marketplace.visualstudio.com/items?itemName=${manifest.publisher}.${manifest.id}`;
      assert.equal(property('Links.Getstarted'), `${listing}#install-and-set-up`);
      assert.equal(property('Links.Support'), `${listing}&amp;ssr=false#qna`);
      assert.equal(property('Links.License'), `https://marketplace.visualstudio.com/items/${manifest.publisher}.${manifest.id}/license`);
      assert.match(property('Links.Repository') ?? '', /^https:\/\//);
      assert.equal(property('Links.GitHub'), property('Links.Repository'), 'repository');
      assert.equal(property('Branding.Theme'), 'dark');
      assert.match(property('Branding.Color') ?? '', /^#[0-9a-f]{6}$/);
      assert.match(vsix, /<License>LICENSE<\/License>/);
      assert.match(vsix, /Microsoft\.VisualStudio\.Services\.Content\.License[^>]*Path="LICENSE"/);
      if (/\.invalid\//.test(property('Links.Repository')!)) assert.match(run.stderr, /warning: vss-extension\.json: repository\.uri \S+ is a placeholder: set the real address before publishing/);
    });

    it("links every task's help to its own section of the overview", function () {
      const manifest = sourceManifest();
      const overview = readFileSync(path.join(repoRoot, 'overview.md'), 'utf8');
      for (const task of taskFolders(repoRoot)) {
        const help = readJson<{ helpMarkDown: string }>(path.join(repoRoot, 'tasks', task, 'task.json')).helpMarkDown;
        const link = /\[Learn more\]\(([^)]+)\)/.exec(help)?.[1];
        assert.equal(link, `https://marketplace.visualstudio.com/items?itemName=${manifest.publisher}.${manifest.id}#${task.toLowerCase()}`);
        assert.match(overview, new RegExp(`^## ${task}$`, 'm'));
      }
    });

    it('stays under the 1.5 MB goal', function () {
      const manifest = sourceManifest();
      const size = statSync(path.join(out, `${manifest.publisher}.${manifest.id}-${manifest.version}.vsix`)).size;
      assert.ok(size < 1.5 * 1024 * 1024, `VSIX is ${size} bytes`);
    });

    it('changes no source file', function () {
      assert.equal(snapshot(repoRoot, ['tasks', 'vss-extension.json', 'overview.md', 'images']), sourcesBefore);
    });
  });

  describe('a broken task.json', function () {
    function expectFailure(edit: (json: TaskJson) => void, ...messages: RegExp[]) {
      const root = copyProject();
      editTask(root, 'TagComponents', edit);
      const out = path.join(root, 'dist');
      const run = packageCli([], root);
      assert.equal(run.status, 1, run.output);
      for (const message of messages) assert.match(run.stderr, message);
      assert.deepEqual(existsSync(out) ? vsixFiles(out) : [], [], 'no VSIX may be written');
      return run;
    }

    it('fails when a visibleRule names an input that does not exist', function () {
      expectFailure(
        (json) => {
          json.inputs[0].visibleRule = 'noSuchFlag = true && nosuchInput != x';
        },
        /tasks\/TagComponents\/task\.json: visibleRule of input "[^"]+" names input "noSuchFlag", which does not exist/,
        /tasks\/TagComponents\/task\.json: visibleRule of input "[^"]+" names input "nosuchInput", which does not exist/,
      );
    });

    it('fails when the Node24 handler is missing', function () {
      expectFailure((json) => {
        delete json.execution.Node24;
      }, /tasks\/TagComponents\/task\.json: execution has no Node24 handler/);
    });

    it('fails on "Node20", which is not a handler, instead of Node20_1', function () {
      expectFailure(
        (json) => {
          json.execution = { Node20: { target: 'index.js' }, Node24: { target: 'index.js' } };
        },
        /tasks\/TagComponents\/task\.json: execution has no Node20_1 handler/,
        /tasks\/TagComponents\/task\.json: execution\.Node20 is not an agent handler/,
      );
    });

    it('fails when the execution target does not exist', function () {
      expectFailure((json) => {
        json.execution.Node24 = { target: 'main.js' };
      }, /tasks\/TagComponents\/task\.json: execution\.Node24\.target "main\.js" does not exist/);
    });

    it('fails when friendlyName is over 40 characters', function () {
      expectFailure((json) => {
        json.friendlyName = 'Tag every Rust component of the repository';
      }, /tasks\/TagComponents\/task\.json: friendlyName "Tag every Rust component of the repository" is 42 characters; the limit is 40/);
    });

    it('fails when the id is not a GUID', function () {
      expectFailure((json) => {
        json.id = '8d3f6a2e-1c4b-4f5e-9a7d-2b6c0e1f3a4';
      }, /tasks\/TagComponents\/task\.json: id "8d3f6a2e-1c4b-4f5e-9a7d-2b6c0e1f3a4" is not a GUID/);
    });

    it('fails on an input groupName that is not a group, duplicate inputs, and a restricted command mode', function () {
      expectFailure(
        (json) => {
          json.inputs.push({ ...json.inputs[0], groupName: 'advanced' } as TaskJson['inputs'][number]);
          json.restrictions = { commands: { mode: 'restricted' } };
        },
        /tasks\/TagComponents\/task\.json: input name "[^"]+" is used twice/,
        /tasks\/TagComponents\/task\.json: input "[^"]+" has groupName "advanced", which is not a defined group/,
        /tasks\/TagComponents\/task\.json: restrictions\.commands\.mode is "restricted"/,
      );
    });

    it('lists every problem at once, one line each', function () {
      const run = expectFailure(
        (json) => {
          json.id = 'not-a-guid';
          json.friendlyName = 'x'.repeat(41);
          delete json.execution.Node24;
          delete json.instanceNameFormat;
          json.version = { Major: 1, Minor: '0', Patch: 0 } as unknown as TaskJson['version'];
        },
        /id "not-a-guid" is not a GUID/,
        /friendlyName "x{41}" is 41 characters/,
        /execution has no Node24 handler/,
        /instanceNameFormat is missing/,
        /version\.Minor "0" is not a non-negative integer/,
      );
      assert.match(run.stderr, /5 problem\(s\)/);
      const lines = run.stderr.split('\n').filter((line) => line.includes('tasks/TagComponents/task.json: '));
      assert.equal(lines.length, 5, run.stderr);
    });

    it('names the line of a JSON syntax error', function () {
      const root = copyProject();
      const file = path.join(root, 'tasks', 'TagComponents', 'task.json');
      const lines = JSON.stringify(readJson(file), null, 2).split('\n');
      lines[4] = lines[4].replace('":', '"'); // line 5 loses its colon
      writeFileSync(file, lines.join('\n'));
      const run = packageCli([], root);
      assert.equal(run.status, 1, run.output);
      assert.match(run.stderr, /tasks\/TagComponents\/task\.json: invalid JSON at line 5, column \d+/);
    });

    it('fails when the task icon is missing', function () {
      const root = copyProject();
      rmSync(path.join(root, 'tasks', 'TagComponents', 'icon.png'));
      const run = packageCli([], root);
      assert.equal(run.status, 1, run.output);
      assert.match(run.stderr, /tasks\/TagComponents\/icon\.png: missing/);
    });
  });

  describe('the third-party notices', function () {
    it('fail the packaging when a bundled package has no licence text, naming it', function () {
      const root = copyProject();
      const vendored = path.join(root, 'vendor', 'node_modules', 'no-licence');
      mkdirSync(vendored, { recursive: true });
      writeFileSync(path.join(vendored, 'package.json'), JSON.stringify({ name: 'no-licence', version: '0.1.0', license: 'MIT' }));
      writeFileSync(path.join(vendored, 'README.md'), '# no-licence\n\nNo licence section here.\n');
      const metafile = path.join(root, 'tasks', 'TagComponents', 'index.meta.json');
      const meta = readJson<{ inputs: Record<string, unknown> }>(metafile);
      meta.inputs['vendor/node_modules/no-licence/index.js'] = { bytes: 1, imports: [] };
      writeFileSync(metafile, JSON.stringify(meta));
      const run = packageCli([], root);
      assert.equal(run.status, 1, run.output);
      assert.match(run.stderr, /third-party notices: no licence text found for no-licence@0\.1\.0 \(license: MIT\)/);
      assert.deepEqual(existsSync(path.join(root, 'dist')) ? vsixFiles(path.join(root, 'dist')) : [], []);
    });

    it('fail the packaging when a bundle has no metafile (not built by npm run build)', function () {
      const root = copyProject();
      rmSync(path.join(root, 'tasks', 'TagComponents', 'index.meta.json'));
      const run = packageCli([], root);
      assert.equal(run.status, 1, run.output);
      assert.match(run.stderr, /tasks\/TagComponents\/index\.meta\.json \(written by npm run build\): missing/);
    });
  });

  describe('the extension manifest', function () {
    it('fails when tfx-cli only warns (here: a content item without a path)', function () {
      const root = copyProject();
      const file = path.join(root, 'vss-extension.json');
      const manifest = readJson<Manifest & { content: Record<string, unknown> }>(file);
      manifest.content.privacy = { href: 'PRIVACY.md' };
      writeFileSync(file, JSON.stringify(manifest, null, 2));
      const run = packageCli([], root);
      assert.equal(run.status, 1, run.output);
      assert.match(run.stderr, /tfx-cli reported problems:\n.*Did not find 'path' property for content item 'privacy'/);
      assert.deepEqual(vsixFiles(path.join(root, 'dist')), []);
    });

    it('fails without the links, repository, branding and licence of the listing', function () {
      const root = copyProject();
      const file = path.join(root, 'vss-extension.json');
      const manifest = readJson<Manifest & { links: Record<string, { uri: string }>; repository?: unknown; branding?: unknown; content: { license?: unknown } }>(file);
      delete manifest.links.support;
      manifest.links.getstarted = { uri: 'http://example.com/start' };
      delete manifest.repository;
      delete manifest.branding;
      delete manifest.content.license;
      writeFileSync(file, JSON.stringify(manifest, null, 2));
      const run = packageCli([], root);
      assert.equal(run.status, 1, run.output);
      const problems = run.stderr.split('\n').filter((line) => line.startsWith('  ')).map((line) => line.trim());
      assert.deepEqual(problems, [
        'vss-extension.json: links.getstarted.uri http://example.com/start is not https',
        'vss-extension.json: links.support.uri is missing',
        'vss-extension.json: repository needs type "git" and a uri',
        'vss-extension.json: branding needs a color (#rrggbb) and a theme (dark or light)',
        'vss-extension.json: content.license.path is missing (the licence the Marketplace shows)',
      ]);
      assert.ok(!existsSync(path.join(root, 'dist')), 'nothing was staged or written');
    });

    it('refuses a hand-written task contribution (the list is generated) and a too small icon', function () {
      const root = copyProject();
      const file = path.join(root, 'vss-extension.json');
      const manifest = readJson<Manifest>(file);
      manifest.contributions = [{ id: 'TagComponents', type: 'ms.vss-distributed-task.task', properties: { name: 'tasks/TagComponents' } }];
      writeFileSync(file, JSON.stringify(manifest, null, 2));
      let run = packageCli([], root);
      assert.equal(run.status, 1, run.output);
      assert.match(run.stderr, /vss-extension\.json: lists task contributions \(TagComponents\); they are generated from tasks\/\*\/task\.json, remove them/);

      manifest.contributions = [];
      writeFileSync(file, JSON.stringify(manifest, null, 2));
      cpSync(path.join(root, 'tasks', 'TagComponents', 'icon.png'), path.join(root, 'images', 'extension-icon.png'));
      run = packageCli([], root);
      assert.equal(run.status, 1, run.output);
      assert.match(run.stderr, /images\/extension-icon\.png: the extension icon is 64x64; the Marketplace needs at least 128x128/);
    });
  });

  describe('a new task folder', function () {
    it('is packaged without editing vss-extension.json, and a copied GUID is refused', function () {
      const root = copyProject();
      cpSync(path.join(root, 'tasks', 'TagComponents'), path.join(root, 'tasks', 'ExtraTask'), { recursive: true });
      editTask(root, 'ExtraTask', (json) => {
        json.name = 'ExtraTask';
        json.helpMarkDown = String(json.helpMarkDown).replace('#tagcomponents', '#extratask');
      });
      writeFileSync(path.join(root, 'overview.md'), `${readFileSync(path.join(root, 'overview.md'), 'utf8')}\n## ExtraTask\n\nWhat it does.\n`);
      let run = packageCli([], root);
      assert.equal(run.status, 1, run.output);
      assert.match(run.stderr, /tasks\/TagComponents\/task\.json: id \S+ is also the id of tasks\/ExtraTask\/task\.json|tasks\/ExtraTask\/task\.json: id \S+ is also the id of tasks\/TagComponents\/task\.json/);

      editTask(root, 'ExtraTask', (json) => {
        json.id = '0b8f1c52-7d3e-4a69-8f21-5c4d3e2b1a90';
      });
      run = packageCli([], root);
      assert.equal(run.status, 0, run.output);
      const manifest = readJson<Manifest>(path.join(root, 'vss-extension.json'));
      const zip = openZip(path.join(root, 'dist', `${manifest.publisher}.${manifest.id}-${manifest.version}.vsix`));
      assert.ok(zip.names.includes('tasks/ExtraTask/index.js'));
      const vso = JSON.parse(zip.read('extension.vsomanifest').toString()) as Manifest;
      assert.ok(vso.contributions?.some((c) => c.properties.name === 'tasks/ExtraTask'));
    });
  });

  describe('the dev flavour (--dev)', function () {
    let out: string;
    let run: ReturnType<typeof packageCli>;
    let sourcesBefore: string;

    before(function () {
      out = tempDir('package-dev-');
      sourcesBefore = snapshot(repoRoot, ['tasks', 'vss-extension.json', 'overview.md', 'images']);
      run = packageCli(['--dev', '--patch', '7', '--out', out]);
    });

    it('is a private extension with its own id and name', function () {
      assert.equal(run.status, 0, run.output);
      const manifest = sourceManifest();
      const name = `${manifest.publisher}.${manifest.id}-dev-${manifest.version.replace(/\d+$/, '7')}.vsix`;
      assert.deepEqual(vsixFiles(out), [name]);
      const vsix = openZip(path.join(out, name)).read('extension.vsixmanifest').toString();
      assert.match(vsix, new RegExp(`<Identity [^>]*Id="${manifest.id}-dev"`));
      assert.match(vsix, new RegExp(`<DisplayName>${manifest.name} \\(Dev\\)</DisplayName>`));
      assert.doesNotMatch(vsix, /<GalleryFlags>[^<]*Public/);
    });

    it('gives every task a different GUID and a Dev name, derived the same way on every build', function () {
      const manifest = sourceManifest();
      const zip = openZip(path.join(out, vsixFiles(out)[0]));
      const ids = new Set<string>();
      for (const task of taskFolders(repoRoot)) {
        const source = readJson<TaskJson>(path.join(repoRoot, 'tasks', task, 'task.json'));
        const dev = JSON.parse(zip.read(`tasks/${task}Dev/task.json`).toString()) as TaskJson;
        assert.notEqual(dev.id.toLowerCase(), source.id.toLowerCase());
        assert.match(dev.id, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a version 5 UUID');
        assert.equal(dev.name, `${task}Dev`);
        assert.ok(dev.friendlyName.endsWith(' (Dev)') && dev.friendlyName.length <= 40, dev.friendlyName);
        assert.deepEqual(dev.version, { ...source.version, Patch: 7 });
        assert.deepEqual(dev.inputs, source.inputs);
        ids.add(dev.id);
      }
      assert.equal(ids.size, taskFolders(repoRoot).length);

      const again = tempDir('package-dev-again-');
      const second = packageCli(['--dev', '--patch', '7', '--out', again]);
      assert.equal(second.status, 0, second.output);
      const zip2 = openZip(path.join(again, `${manifest.publisher}.${manifest.id}-dev-${manifest.version.replace(/\d+$/, '7')}.vsix`));
      for (const task of taskFolders(repoRoot)) {
        assert.equal(zip2.read(`tasks/${task}Dev/task.json`).toString(), zip.read(`tasks/${task}Dev/task.json`).toString());
      }
    });

    it('derives GUIDs as RFC 9562 name-based UUIDs (its published SHA-1 example)', function () {
      const script = path.join(repoRoot, 'scripts', 'package.mjs');
      const result = spawnSync(
        process.execPath,
        ['--input-type=module', '-e', `import { uuidV5 } from ${JSON.stringify(script)}; console.log(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8'))`],
        { encoding: 'utf8' },
      );
      assert.equal(result.stdout.trim(), '2ed6657d-e927-568b-95e1-2665a8aea6a2', result.stderr);
    });

    it('leaves the sources unchanged', function () {
      assert.equal(snapshot(repoRoot, ['tasks', 'vss-extension.json', 'overview.md', 'images']), sourcesBefore);
    });

    it('keeps a 40-character friendlyName within the limit', function () {
      const root = copyProject();
      editTask(root, 'TagComponents', (json) => {
        json.friendlyName = 'Tag every Rust component of a repository';
      });
      const dev = packageCli(['--dev', '--version', '2.3.4'], root);
      assert.equal(dev.status, 0, dev.output);
      const manifest = readJson<Manifest>(path.join(root, 'vss-extension.json'));
      const zip = openZip(path.join(root, 'dist', `${manifest.publisher}.${manifest.id}-dev-2.3.4.vsix`));
      const task = JSON.parse(zip.read('tasks/TagComponentsDev/task.json').toString()) as TaskJson;
      assert.equal(task.friendlyName, 'Tag every Rust component of a (Dev)');
      assert.ok(task.friendlyName.length <= 40);
    });

    it('refuses dev-only options on a public build', function () {
      const refused = packageCli(['--patch', '7', '--out', tempDir('package-refused-')]);
      assert.equal(refused.status, 1, refused.output);
      assert.match(refused.stderr, /apply to dev builds/);
    });
  });
});

describe('overview.md (the Marketplace page)', () => {
  it("lists every task's inputs and outputs exactly as its task.json has them", () => {
    const check = spawnSync(process.execPath, [path.join(repoRoot, 'scripts', 'task-reference.mjs'), '--check'], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stderr);
    const overview = readFileSync(path.join(repoRoot, 'overview.md'), 'utf8');
    for (const task of ['TagComponents', 'BuildRustContainers', 'UpdateGitOpsVersions', 'CreateEnvPR', 'ValidateGitOps']) {
      const json = JSON.parse(readFileSync(path.join(repoRoot, 'tasks', task, 'task.json'), 'utf8')) as { inputs: Array<{ name: string }> };
      assert.ok(overview.includes(`<!-- reference:${task} -->`), `${task} has a reference block`);
      for (const input of json.inputs) assert.ok(overview.includes(`| \`${input.name}\``), `${task}.${input.name} is documented`);
    }
  });
});
