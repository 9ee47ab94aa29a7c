// The task.json checks in detail, through the validator's command line (`node scripts/validate-tasks.mjs ROOT`)
// on small task folders written for each case.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../../helpers/run-task';

type Json = Record<string, unknown>;

const LISTING = 'https://marketplace.visualstudio.com/items?itemName=edge-platform.sample';
const learnMore = (section: string) => `Does one thing. [Learn more](${LISTING}#${section})`;

function goodTask(name = 'SampleTask'): Json {
  return {
    id: '5a4d2c1b-3e6f-4a8b-9c0d-1e2f3a4b5c6d',
    name,
    friendlyName: 'Sample task',
    description: 'A task for the validator tests',
    helpMarkDown: learnMore(name.toLowerCase()),
    author: 'Edge Platform',
    category: 'Deploy',
    version: { Major: 1, Minor: 0, Patch: 0 },
    minimumAgentVersion: '3.232.1',
    instanceNameFormat: 'Sample $(mode)',
    groups: [{ name: 'advanced', displayName: 'Advanced', isExpanded: false, visibleRule: 'mode = plan' }],
    inputs: [
      { name: 'mode', type: 'pickList', label: 'Mode', defaultValue: 'build', options: { build: 'Build', plan: 'Plan' }, helpMarkDown: 'x' },
      { name: 'push', type: 'boolean', label: 'Push', defaultValue: 'true', helpMarkDown: 'x' },
      { name: 'registry', type: 'string', label: 'Registry', visibleRule: 'mode = build && push = true', helpMarkDown: 'x' },
      { name: 'containerRegistry', type: 'connectedService:dockerregistry', label: 'Registry connection', visibleRule: 'mode = build || registry = ', helpMarkDown: 'x' },
      { name: 'notes', type: 'multiLine', label: 'Notes', groupName: 'advanced', visibleRule: 'registry NotContains localhost', helpMarkDown: 'x' },
    ],
    outputVariables: [{ name: 'images', description: 'JSON' }, { name: 'built' }],
    execution: { Node20_1: { target: 'index.js' }, Node24: { target: 'index.js' } },
  };
}

const temps: string[] = [];

/**
 * Writes tasks/<name>/ with task.json, index.js, lib.json and a real icon, and the listing the tasks link to
 * (vss-extension.json and an overview with a section per task), then runs the validator.
 */
function validate(tasks: Json[], options: { omit?: string[]; folders?: string[] } = {}) {
  const root = mkdtempSync(path.join(os.tmpdir(), 'validate-tasks-'));
  temps.push(root);
  if (!options.omit?.includes('vss-extension.json')) {
    writeFileSync(path.join(root, 'vss-extension.json'), JSON.stringify({ publisher: 'edge-platform', id: 'sample', content: { details: { path: 'overview.md' } } }));
  }
  const sections = tasks.map((task) => `## ${String(task.name)}\n\n\`\`\`yaml\n# ${String(task.name)}Code: a comment, not a section\n\`\`\`\n`);
  writeFileSync(path.join(root, 'overview.md'), ['# Sample', '', '## Install and set up', '', ...sections].join('\n'));
  for (const [index, task] of tasks.entries()) {
    const dir = path.join(root, 'tasks', options.folders?.[index] ?? String(task.name));
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'task.json'), JSON.stringify(task, null, 2));
    for (const file of ['index.js', 'lib.json']) if (!options.omit?.includes(file)) writeFileSync(path.join(dir, file), '{}');
    if (!options.omit?.includes('icon.png')) copyFileSync(path.join(repoRoot, 'images', 'extension-icon.png'), path.join(dir, 'icon.png'));
  }
  const result = spawnSync(process.execPath, [path.join(repoRoot, 'scripts', 'validate-tasks.mjs'), root], { encoding: 'utf8' });
  const problems = result.stderr.split('\n').filter((line) => line.startsWith('  ')).map((line) => line.trim());
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, problems };
}

function expectProblems(task: Json, expected: string[], options?: { omit?: string[] }) {
  const result = validate([task], options);
  assert.equal(result.status, 1, result.stdout + result.stderr);
  assert.deepEqual(result.problems.sort(), expected.map((p) => `tasks/${task.name}/${p}`).sort());
}

describe('task.json validation (scripts/validate-tasks.mjs)', function () {
  after(function () {
    for (const dir of temps) rmSync(dir, { recursive: true, force: true });
  });

  it('accepts a well-formed task, with its && and || rules, groups, pickList and outputs', function () {
    const result = validate([goodTask()]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /1 task\(s\) valid: SampleTask/);
    assert.equal(result.stderr, '');
  });

  it('checks every input a visibleRule names, on inputs and on groups, whatever the operator', function () {
    const task = goodTask();
    const inputs = task.inputs as Json[];
    inputs[2].visibleRule = 'mode = build && pushh = true';
    inputs[3].visibleRule = 'registry = x || conection != y';
    inputs[4].visibleRule = 'registryy NotContains localhost';
    (task.groups as Json[])[0].visibleRule = 'modes = plan';
    expectProblems(task, [
      'task.json: visibleRule of input "registry" names input "pushh", which does not exist',
      'task.json: visibleRule of input "containerRegistry" names input "conection", which does not exist',
      'task.json: visibleRule of input "notes" names input "registryy", which does not exist',
      'task.json: visibleRule of group "advanced" names input "modes", which does not exist',
    ]);
  });

  it('refuses a rule mixing && and ||, a clause without an operator, and values the input cannot take', function () {
    const task = goodTask();
    const inputs = task.inputs as Json[];
    inputs[2].visibleRule = 'mode = build && push = true || registry = x';
    inputs[3].visibleRule = 'mode';
    inputs[4].visibleRule = 'mode = deploy && push = yes';
    expectProblems(task, [
      'task.json: visibleRule of input "registry" mixes && and || ("mode = build && push = true || registry = x"); the agent and the web UI support only one of them per rule',
      'task.json: visibleRule of input "containerRegistry" clause "mode" of "mode" is not "<input> <operator> <value>"',
      'task.json: visibleRule of input "notes" compares input "mode" with "deploy", which is not one of its options (build, plan)',
      'task.json: visibleRule of input "notes" compares boolean input "push" with "yes" (use true or false)',
    ]);
  });

  it('checks names, labels, types, groups, pick lists and output variables', function () {
    const task = goodTask();
    const inputs = task.inputs as Json[];
    inputs[0].defaultValue = 'deploy';
    delete inputs[1].label;
    inputs[2].type = 'text';
    inputs[3].name = 'registry';
    inputs[4].groupName = 'extras';
    inputs.push({ name: 'builder', type: 'radio', label: 'Builder', helpMarkDown: 'x' });
    inputs.push({ name: 'bad-name', type: 'string', label: 'Bad', helpMarkDown: 'x' });
    task.outputVariables = [{ name: 'images' }, { name: 'images' }, { name: 'a.b' }, {}];
    expectProblems(task, [
      'task.json: input "mode": defaultValue "deploy" is not one of its options (build, plan)',
      'task.json: input "push" has no label',
      'task.json: input "registry" has unknown type "text"',
      'task.json: input name "registry" is used twice (names and aliases must be unique)',
      'task.json: input "notes" has groupName "extras", which is not a defined group (groups: advanced)',
      'task.json: input "builder" is a radio without options',
      'task.json: input "bad-name": the name is not an identifier (letters, digits, \'_\')',
      'task.json: output variable "images" is listed twice',
      'task.json: output variable "a.b" is not an identifier (letters, digits, \'_\')',
      'task.json: outputVariables[3] has no name',
    ]);
  });

  it('requires the task name to equal its folder and each GUID to be unique across tasks', function () {
    const a = goodTask('TaskA');
    const b = goodTask('TaskB');
    const result = validate([a, b]);
    assert.equal(result.status, 1);
    assert.deepEqual(result.problems, ['tasks/TaskB/task.json: id 5a4d2c1b-3e6f-4a8b-9c0d-1e2f3a4b5c6d is also the id of tasks/TaskA/task.json; every task needs its own GUID']);

    const mismatch = validate([goodTask('TaskE')], { folders: ['TaskD'] });
    assert.equal(mismatch.status, 1);
    assert.deepEqual(mismatch.problems, ['tasks/TaskD/task.json: name "TaskE" differs from its folder "TaskD"; they must be equal']);
  });

  it('names the files packaging needs beside task.json when they are missing', function () {
    expectProblems(goodTask(), [
      'task.json: execution.Node20_1.target "index.js" does not exist (tasks/SampleTask/index.js; run npm run build first)',
      'task.json: execution.Node24.target "index.js" does not exist (tasks/SampleTask/index.js; run npm run build first)',
      "lib.json: missing (task-lib's messages, copied by npm run build); without it errors print raw keys",
      'icon.png: missing (every task needs its icon; see scripts/icons.mjs)',
    ], { omit: ['index.js', 'lib.json', 'icon.png'] });
  });

  it('warns, without failing, about missing input helpMarkDown and minimumAgentVersion', function () {
    const task = goodTask();
    delete task.minimumAgentVersion;
    delete (task.inputs as Json[])[0].helpMarkDown;
    const result = validate([task]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /warning: tasks\/SampleTask\/task\.json: minimumAgentVersion is missing \(its handlers need 3\.232\.1\)/);
    assert.match(result.stderr, /warning: tasks\/SampleTask\/task\.json: input "mode" has no helpMarkDown/);
  });

  it('refuses a minimumAgentVersion older than the first agent that runs any of the handlers', function () {
    const task = goodTask();
    task.minimumAgentVersion = '3.225.0';
    expectProblems(task, ['task.json: minimumAgentVersion 3.225.0 is older than 3.232.1, the first agent that runs any of its handlers (Node20_1, Node24)']);
    const only24 = goodTask();
    only24.execution = { Node24: { target: 'index.js' } };
    const result = validate([only24]);
    assert.ok(result.problems.includes('tasks/SampleTask/task.json: minimumAgentVersion 3.232.1 is older than 4.265.1, the first agent that runs any of its handlers (Node24)'), result.stderr);
  });

  it("requires the task's help to link to its own section of the listing's overview", function () {
    const cases: Array<[string | undefined, string]> = [
      [undefined, `helpMarkDown has no "[Learn more](${LISTING}#<section>)" link to the task's section of overview.md`],
      ['Does one thing.', `helpMarkDown has no "[Learn more](${LISTING}#<section>)" link to the task's section of overview.md`],
      ['[Learn more](https://marketplace.visualstudio.com/items?itemName=someone.else#sampletask)', `helpMarkDown links https://marketplace.visualstudio.com/items?itemName=someone.else#sampletask; the listing is ${LISTING}`],
      [learnMore('sampletaskcode-a-comment-not-a-section'), 'helpMarkDown links #sampletaskcode-a-comment-not-a-section, which is no section of overview.md'],
      [learnMore('install-and-set-up'), 'helpMarkDown links #install-and-set-up, the section "Install and set up", not SampleTask\'s'],
    ];
    for (const [help, problem] of cases) {
      const task = goodTask();
      if (help === undefined) delete task.helpMarkDown;
      else task.helpMarkDown = help;
      expectProblems(task, [`task.json: ${problem}`]);
    }
    const result = validate([goodTask()], { omit: ['vss-extension.json'] });
    assert.equal(result.status, 1);
    assert.deepEqual(result.problems, ['vss-extension.json: missing (the tasks link to the listing it describes)']);
  });
});
