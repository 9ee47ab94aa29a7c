// Writes each task's inputs and outputs, from its task.json, into overview.md between
// <!-- reference:TaskName --> and <!-- /reference --> markers, so the Marketplace page never drifts from
// the tasks. `node scripts/task-reference.mjs` rewrites overview.md; `--check` fails when it is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const cell = (text) => String(text ?? '').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

export function reference(task) {
  const json = JSON.parse(readFileSync(path.join(root, 'tasks', task, 'task.json'), 'utf8'));
  const inputs = (json.inputs ?? []).map((input) => {
    const type = input.type.startsWith('connectedService') ? 'service connection' : input.type;
    const def = input.defaultValue ? `\`${cell(input.defaultValue)}\`` : '';
    const help = cell(input.helpMarkDown).replace(/\s+/g, ' ').trim();
    return `| \`${input.name}\`${input.required ? ' (required)' : ''} | ${type} | ${def} | ${help} |`;
  });
  const outputs = (json.outputVariables ?? []).map((output) => `| \`${output.name}\` | ${cell(output.description)} |`);
  return [
    `<details><summary>All inputs and outputs of ${json.name}@${json.version.Major}</summary>`,
    '',
    '| Input | Type | Default | What it does |',
    '| --- | --- | --- | --- |',
    ...inputs,
    '',
    '| Output variable | Value |',
    '| --- | --- |',
    ...outputs,
    '',
    '</details>',
  ].join('\n');
}

export function render(text) {
  return text.replace(/(<!-- reference:(\w+) -->)[\s\S]*?(<!-- \/reference -->)/g, (_, open, task, close) => `${open}\n${reference(task)}\n${close}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = path.join(root, 'overview.md');
  const text = readFileSync(file, 'utf8');
  const next = render(text);
  if (process.argv.includes('--check')) {
    if (next !== text) {
      console.error('overview.md: the task reference is out of date: run node scripts/task-reference.mjs');
      process.exit(1);
    }
  } else {
    writeFileSync(file, next);
    console.log('overview.md: task reference written');
  }
}
