// Validates every tasks/<Task>/task.json (and the files it needs beside it) before packaging, because
// tfx-cli only warns (and exits 0) on a broken task. Every problem is reported, each as
// "tasks/<Task>/<file>: <problem>", so one run shows everything to fix.
//
//   node scripts/validate-tasks.mjs [root]      exit 1 and list the problems, or print a one-line OK
//   import { validateTasks } from './validate-tasks.mjs'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import semver from 'semver';
import { readListing } from './listing.mjs';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Task names: what pipelines write before "@1", and the folder name. tfx allows letters, digits and '-'. */
const TASK_NAME = /^[A-Za-z][A-Za-z0-9-]*$/;
/** Input, group and output variable names: referenced from YAML, visibleRules and $(step.name). */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const INPUT_TYPES = new Set(['string', 'multiLine', 'boolean', 'pickList', 'radio', 'filePath', 'secureFile', 'int', 'identities', 'querycontrol']);
const HANDLERS = ['Node20_1', 'Node24'];
/**
 * The first agent version that runs each handler (azure-pipelines-tasks docs/migrateNode24.md). An agent
 * runs the highest declared handler it knows, so a task needs the lowest of its handlers' versions.
 */
const HANDLER_AGENT_VERSIONS = { Node20_1: '3.232.1', Node24: '4.265.1' };
const END_OF_LIFE_HANDLERS = new Set(['Node', 'Node6', 'Node10', 'Node16']);
const OTHER_HANDLERS = new Set(['PowerShell', 'PowerShell3', 'Process']);
const EXECUTIONS = ['execution', 'prejobexecution', 'postjobexecution'];
/** visibleRule operators (the web UI's and the agent's): symbolic ones, then word ones. */
const RULE_CLAUSE = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(!=|<=|>=|=|<|>|\s(?:Not)?(?:Contains|StartsWith|EndsWith)\s)\s*(.*?)\s*$/;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const posix = (p) => p.split(path.sep).join('/');

/** Every folder under <root>/tasks holding a task.json, sorted by name. */
export function findTasks(root) {
  const tasksDir = path.join(root, 'tasks');
  if (!existsSync(tasksDir)) return [];
  return readdirSync(tasksDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(path.join(tasksDir, entry.name, 'task.json')))
    .map((entry) => ({ folder: entry.name, dir: path.join(tasksDir, entry.name) }))
    .sort((a, b) => a.folder.localeCompare(b.folder));
}

/** Parses JSON, turning a syntax error's position into a line and column. */
export function parseJson(text) {
  const source = text.replace(/^\uFEFF/, '');
  try {
    return { value: JSON.parse(source) };
  } catch (error) {
    const message = error.message;
    const position = /position (\d+)/.exec(message);
    if (!position) return { error: `invalid JSON: ${message}` };
    const before = source.slice(0, Number(position[1]));
    const line = before.split('\n').length;
    const column = before.length - before.lastIndexOf('\n');
    return { error: `invalid JSON at line ${line}, column ${column}: ${message.replace(/\s*\(line \d+ column \d+\)$/, '').replace(/ in JSON at position \d+$/, '')}` };
  }
}

/** The targets of a task's execution sections that name a file in the task folder. */
export function executionTargets(task) {
  const targets = new Set();
  for (const section of EXECUTIONS) {
    const handlers = task?.[section];
    if (!handlers || typeof handlers !== 'object') continue;
    for (const handler of Object.values(handlers)) {
      const target = normaliseTarget(handler?.target);
      if (target) targets.add(target);
    }
  }
  return [...targets];
}

function normaliseTarget(target) {
  if (typeof target !== 'string' || !target.trim()) return undefined;
  const normalised = target.replace(/\$\(\s*currentdirectory\s*\)/i, '.');
  return /\$\([^)]+\)/.test(normalised) ? undefined : path.posix.normalize(normalised.replace(/\\/g, '/'));
}

const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);
const nonEmptyString = (value) => typeof value === 'string' && value.trim() !== '';
const truthy = (value) => value === true || String(value).toLowerCase() === 'true';

/**
 * Splits a visibleRule (`a = b && c != d`, or with `||`) into clauses.
 * Returns { clauses: [{name, operator, value}], problems: [string] }.
 */
export function parseVisibleRule(rule) {
  if (!nonEmptyString(rule)) return { clauses: [], problems: ['is empty'] };
  const problems = [];
  const hasAnd = rule.includes('&&');
  const hasOr = rule.includes('||');
  if (hasAnd && hasOr) problems.push(`mixes && and || ("${rule}"); the agent and the web UI support only one of them per rule`);
  const clauses = [];
  for (const text of rule.split(/&&|\|\|/)) {
    const match = RULE_CLAUSE.exec(text);
    if (!match) {
      problems.push(`clause "${text.trim()}" of "${rule}" is not "<input> <operator> <value>"`);
      continue;
    }
    clauses.push({ name: match[1], operator: match[2].trim(), value: match[3] });
  }
  return { clauses, problems };
}

/** Problems with the task's "[Learn more](<listing>#<section>)" link to its own section of the overview. */
function learnMoreProblems(task, listing) {
  const hint = `"[Learn more](${listing.url}#<section>)" link to the task's section of ${listing.overview}`;
  const links = [...String(task.helpMarkDown ?? '').matchAll(/\[Learn more\]\(([^)\s]+)\)/g)].map((match) => match[1]);
  if (!links.length) return [`helpMarkDown has no ${hint}`];
  return links.flatMap((link) => {
    const [base, section = ''] = link.split('#');
    if (base !== listing.url) return [`helpMarkDown links ${link}; the listing is ${listing.url}`];
    const heading = listing.anchors.get(section);
    if (!heading) return [`helpMarkDown links #${section}, which is no section of ${listing.overview}`];
    if (!heading.includes(task.name)) return [`helpMarkDown links #${section}, the section "${heading}", not ${task.name}'s`];
    return [];
  });
}

/**
 * Validates one task folder: its task.json, its execution targets and the files packaging ships, and
 * (given the listing: readListing) its help's link to the overview.
 * Returns { task, problems, warnings }, each message prefixed with the file it is about.
 */
export function validateTask(root, dir, listing) {
  const folder = path.basename(dir);
  const rel = (file) => posix(path.relative(root, path.join(dir, file)));
  const problems = [];
  const warnings = [];
  const problem = (message) => problems.push(`${rel('task.json')}: ${message}`);
  const warning = (message) => warnings.push(`${rel('task.json')}: ${message}`);

  const parsed = parseJson(readFileSync(path.join(dir, 'task.json'), 'utf8'));
  if (parsed.error) return { task: undefined, problems: [`${rel('task.json')}: ${parsed.error}`], warnings };
  const task = parsed.value;
  if (!isObject(task)) return { task: undefined, problems: [`${rel('task.json')}: must be a JSON object`], warnings };

  // Identity.
  if (typeof task.id !== 'string' || !GUID.test(task.id)) problem(`id ${JSON.stringify(task.id)} is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)`);
  if (typeof task.name !== 'string' || !TASK_NAME.test(task.name)) {
    problem(`name ${JSON.stringify(task.name)} is not a valid task name (a letter, then letters, digits or '-')`);
  } else if (task.name !== folder) {
    problem(`name "${task.name}" differs from its folder "${folder}"; they must be equal`);
  }
  if (!nonEmptyString(task.friendlyName)) problem('friendlyName is missing');
  else if (task.friendlyName.length > 40) problem(`friendlyName "${task.friendlyName}" is ${task.friendlyName.length} characters; the limit is 40`);
  if (!nonEmptyString(task.instanceNameFormat)) problem('instanceNameFormat is missing');
  if (!nonEmptyString(task.description)) problem('description is missing');
  if (!nonEmptyString(task.author)) warning('author is missing');
  if (!nonEmptyString(task.category)) problem('category is missing');

  // Version: agents cache tasks by it.
  if (!isObject(task.version)) {
    problem('version is missing (an object with integer Major, Minor and Patch)');
  } else {
    for (const part of ['Major', 'Minor', 'Patch']) {
      const value = task.version[part];
      if (!Number.isInteger(value) || value < 0) problem(`version.${part} ${JSON.stringify(value)} is not a non-negative integer`);
    }
  }
  const handlerVersions = Object.keys(isObject(task.execution) ? task.execution : {}).flatMap((h) => HANDLER_AGENT_VERSIONS[h] ?? []);
  const needed = handlerVersions.length ? semver.sort(handlerVersions)[0] : undefined;
  if (task.minimumAgentVersion === undefined) warning(`minimumAgentVersion is missing${needed ? ` (its handlers need ${needed})` : ''}`);
  else if (typeof task.minimumAgentVersion !== 'string' || !/^\d+\.\d+\.\d+$/.test(task.minimumAgentVersion)) {
    problem(`minimumAgentVersion ${JSON.stringify(task.minimumAgentVersion)} is not a version like 3.232.1`);
  } else if (needed && semver.lt(task.minimumAgentVersion, needed)) {
    problem(`minimumAgentVersion ${task.minimumAgentVersion} is older than ${needed}, the first agent that runs any of its handlers (${Object.keys(task.execution).join(', ')})`);
  }
  if (listing) for (const message of learnMoreProblems(task, listing)) problem(message);

  // Groups.
  const groups = new Map();
  if (task.groups !== undefined && !Array.isArray(task.groups)) problem('groups must be an array');
  for (const [index, group] of (Array.isArray(task.groups) ? task.groups : []).entries()) {
    if (!isObject(group) || !nonEmptyString(group.name)) {
      problem(`groups[${index}] has no name`);
      continue;
    }
    if (groups.has(group.name)) problem(`group "${group.name}" is defined twice`);
    groups.set(group.name, group);
    if (!nonEmptyString(group.displayName)) problem(`group "${group.name}" has no displayName`);
  }

  // Inputs.
  const inputs = new Map();
  if (task.inputs !== undefined && !Array.isArray(task.inputs)) problem('inputs must be an array');
  const inputList = Array.isArray(task.inputs) ? task.inputs : [];
  for (const [index, input] of inputList.entries()) {
    if (!isObject(input)) {
      problem(`inputs[${index}] is not an object`);
      continue;
    }
    const label = nonEmptyString(input.name) ? `input "${input.name}"` : `inputs[${index}]`;
    if (!nonEmptyString(input.name)) problem(`${label} has no name`);
    else if (!IDENTIFIER.test(input.name)) problem(`${label}: the name is not an identifier (letters, digits, '_')`);
    if (!nonEmptyString(input.type)) problem(`${label} has no type`);
    else if (!INPUT_TYPES.has(input.type) && !/^connectedService:\S+$/.test(input.type)) problem(`${label} has unknown type "${input.type}"`);
    if (!nonEmptyString(input.label)) problem(`${label} has no label`);
    if (!nonEmptyString(input.helpMarkDown)) warning(`${label} has no helpMarkDown`);
    for (const name of [input.name, ...(Array.isArray(input.aliases) ? input.aliases : [])]) {
      if (!nonEmptyString(name)) continue;
      if (inputs.has(name)) problem(`input name "${name}" is used twice (names and aliases must be unique)`);
      else inputs.set(name, input);
    }
    if (input.groupName !== undefined && !groups.has(input.groupName)) {
      problem(`${label} has groupName "${input.groupName}", which is not a defined group${groups.size ? ` (groups: ${[...groups.keys()].join(', ')})` : ' (the task defines no groups)'}`);
    }
    if (input.type === 'pickList' || input.type === 'radio') {
      const options = input.options;
      const editable = truthy(input.properties?.EditableOptions);
      if (!isObject(options) || Object.keys(options).length === 0) {
        // A pickList filled from a data source may have no static options; a radio may not.
        if (input.type === 'radio' || !editable) problem(`${label} is a ${input.type} without options`);
      } else {
        for (const [key, text] of Object.entries(options)) if (typeof text !== 'string') problem(`${label}: option "${key}" has no display text`);
        const value = input.defaultValue;
        if (nonEmptyString(value) && !editable && !(value in options)) {
          problem(`${label}: defaultValue "${value}" is not one of its options (${Object.keys(options).join(', ')})`);
        }
      }
    }
    if (input.type === 'boolean' && input.defaultValue !== undefined && !['true', 'false'].includes(String(input.defaultValue).toLowerCase())) {
      problem(`${label}: boolean defaultValue ${JSON.stringify(input.defaultValue)} is not true or false`);
    }
  }

  // visibleRules on inputs and groups: every input they name must exist (a typo hides the field forever).
  const checkRule = (owner, rule) => {
    const { clauses, problems: ruleProblems } = parseVisibleRule(rule);
    for (const message of ruleProblems) problem(`visibleRule of ${owner} ${message}`);
    for (const { name, operator, value } of clauses) {
      const target = inputs.get(name);
      if (!target) {
        problem(`visibleRule of ${owner} names input "${name}", which does not exist`);
        continue;
      }
      if (operator !== '=' && operator !== '!=') continue;
      if (target.type === 'boolean' && !['true', 'false'].includes(value.toLowerCase())) {
        problem(`visibleRule of ${owner} compares boolean input "${name}" with "${value}" (use true or false)`);
      } else if ((target.type === 'pickList' || target.type === 'radio') && isObject(target.options) && !truthy(target.properties?.EditableOptions) && !(value in target.options)) {
        problem(`visibleRule of ${owner} compares input "${name}" with "${value}", which is not one of its options (${Object.keys(target.options).join(', ')})`);
      }
    }
  };
  for (const input of inputList) if (isObject(input) && input.visibleRule !== undefined) checkRule(`input "${input.name}"`, input.visibleRule);
  for (const group of groups.values()) if (group.visibleRule !== undefined) checkRule(`group "${group.name}"`, group.visibleRule);

  // Output variables.
  if (task.outputVariables !== undefined) {
    if (!Array.isArray(task.outputVariables)) problem('outputVariables must be an array');
    const seen = new Set();
    for (const [index, output] of (Array.isArray(task.outputVariables) ? task.outputVariables : []).entries()) {
      const name = output?.name;
      if (!nonEmptyString(name)) problem(`outputVariables[${index}] has no name`);
      else if (!IDENTIFIER.test(name)) problem(`output variable "${name}" is not an identifier (letters, digits, '_')`);
      else if (seen.has(name)) problem(`output variable "${name}" is listed twice`);
      else seen.add(name);
    }
  }

  // Handlers and their targets.
  if (!isObject(task.execution)) problem(`execution is missing (it needs ${HANDLERS.join(' and ')} handlers)`);
  for (const section of EXECUTIONS) {
    const handlers = task[section];
    if (handlers === undefined || (section === 'execution' && !isObject(handlers))) continue;
    if (!isObject(handlers)) {
      problem(`${section} must be an object of handlers`);
      continue;
    }
    for (const handler of HANDLERS) if (!(handler in handlers)) problem(`${section} has no ${handler} handler (every task runs under both ${HANDLERS.join(' and ')})`);
    for (const [handler, spec] of Object.entries(handlers)) {
      if (handler === 'Node20') {
        problem(`${section}.Node20 is not an agent handler (the agent ignores it); use Node20_1`);
        continue;
      }
      if (END_OF_LIFE_HANDLERS.has(handler)) warning(`${section}.${handler} is an end-of-life handler; ${HANDLERS.join(' and ')} are enough`);
      else if (!HANDLERS.includes(handler) && !OTHER_HANDLERS.has(handler)) {
        problem(`${section}.${handler} is not an agent handler`);
        continue;
      }
      if (!nonEmptyString(spec?.target)) {
        problem(`${section}.${handler} has no target`);
        continue;
      }
      const target = normaliseTarget(spec.target);
      if (!target) continue; // a target built from agent variables cannot be checked here
      if (target.startsWith('../') || path.posix.isAbsolute(target)) problem(`${section}.${handler}.target "${spec.target}" is outside the task folder`);
      else if (!existsSync(path.join(dir, target)) || !statSync(path.join(dir, target)).isFile()) {
        problem(`${section}.${handler}.target "${spec.target}" does not exist (${rel(target)}; run npm run build first)`);
      }
    }
    const [first, second] = HANDLERS.map((handler) => handlers[handler]?.target);
    if (first && second && first !== second) warning(`${section}: ${HANDLERS.join(' and ')} run different targets (${first}, ${second})`);
  }

  // Command restrictions: "restricted" blocks task.uploadsummary and build.addbuildtag.
  if (task.restrictions?.commands?.mode === 'restricted') {
    problem('restrictions.commands.mode is "restricted", which blocks task.uploadsummary (the summary tab) and build.addbuildtag; remove it');
  }

  // Files packaging ships beside task.json.
  const libJson = path.join(dir, 'lib.json');
  if (executionTargets(task).some((target) => target.endsWith('.js')) && !existsSync(libJson)) {
    problems.push(`${rel('lib.json')}: missing (task-lib's messages, copied by npm run build); without it errors print raw keys`);
  }
  const icon = path.join(dir, 'icon.png');
  if (!existsSync(icon)) problems.push(`${rel('icon.png')}: missing (every task needs its icon; see scripts/icons.mjs)`);
  else if (!readFileSync(icon).subarray(0, 8).equals(PNG_SIGNATURE)) problems.push(`${rel('icon.png')}: not a PNG file`);

  return { task, problems, warnings };
}

/**
 * Validates every task under <root>/tasks, and the tasks against each other. Their Learn more links are
 * checked against `listing` ({ url, anchors, overview }), by default the one <root> describes; null skips them.
 */
export function validateTasks(root, listing = readListing(root)) {
  const found = findTasks(root);
  const problems = listing?.problem ? [listing.problem] : [];
  const warnings = [];
  const tasks = [];
  if (found.length === 0) problems.push(`tasks/: no task folder with a task.json`);
  const ids = new Map();
  const names = new Map();
  for (const { folder, dir } of found) {
    const result = validateTask(root, dir, listing?.problem ? undefined : listing);
    problems.push(...result.problems);
    warnings.push(...result.warnings);
    if (!result.task) continue;
    tasks.push({ folder, dir, task: result.task });
    const file = `tasks/${folder}/task.json`;
    const id = String(result.task.id).toLowerCase();
    if (ids.has(id)) problems.push(`${file}: id ${result.task.id} is also the id of tasks/${ids.get(id)}/task.json; every task needs its own GUID`);
    else ids.set(id, folder);
    const name = String(result.task.name).toLowerCase();
    if (names.has(name)) problems.push(`${file}: name "${result.task.name}" is also used by tasks/${names.get(name)}/task.json`);
    else names.set(name, folder);
  }
  return { tasks, problems, warnings };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = path.resolve(process.argv[2] ?? path.join(import.meta.dirname, '..'));
  const { tasks, problems, warnings } = validateTasks(root);
  for (const message of warnings) console.warn(`warning: ${message}`);
  if (problems.length) {
    console.error(`${problems.length} problem(s) in task.json files:`);
    for (const message of problems) console.error(`  ${message}`);
    process.exit(1);
  }
  console.log(`${tasks.length} task(s) valid: ${tasks.map((t) => t.folder).join(', ')}`);
}
