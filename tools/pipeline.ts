import { type Document, isScalar, visit } from 'yaml';
import { formatError, UserError } from '../shared/errors';
import { lineOf, parseDocuments } from '../shared/updaters/yaml-text';
import { type Condition, ConditionError, parseCondition } from './condition';

/**
 * A pipeline file as the local runner runs it: `${{ parameters.x }}` expanded (defaults, then `--param`), the
 * jobs in the order their `dependsOn` allow (stages first), each job's steps, and the runtime expressions that
 * carry output variables from one job to another, and the conditions to evaluate (tools/condition.ts). What it
 * cannot run faithfully (templates, `each`/`if` insertions, matrices, variable groups, conditions beyond what
 * condition.ts reads) is refused with a PipelineError saying so, before any step runs.
 */

export class PipelineError extends Error {}

/** A step of this extension's tasks, run as the agent would. */
export interface TaskStep {
  kind: 'task';
  /** Task folder name, e.g. TagComponents. */
  task: string;
  /** As written, e.g. TagComponents@1. */
  ref: string;
  /** The step's `name:`: its output variables become `$(name.var)`. */
  name?: string;
  inputs: Record<string, string>;
  env: Record<string, string>;
  continueOnError: boolean;
  condition?: Condition;
}

/** A step the runner does not run (a built-in task, a script, a checkout): it says so. */
export interface SkippedStep {
  kind: 'skip';
  notice: string;
}

export type PlannedStep = TaskStep | SkippedStep;

/** `$[ dependencies.J.outputs['step.var'] ]` or `$[ stageDependencies.S.J.outputs['step.var'] ]`. */
export interface OutputRef {
  stage?: string;
  job: string;
  variable: string;
}

export interface PlannedJob {
  /** `stage/job` (`job` alone outside stages): unique in the run. */
  key: string;
  stage?: string;
  job: string;
  /** Deployment jobs (runOnce) also name their outputs `<job>.<step>.<var>`. */
  deployment: boolean;
  /** Keys of the jobs it depends on (its stage's jobs). */
  needs: string[];
  condition?: Condition;
  /** Its stage's dependencies and condition (the same on every job of the stage). */
  stageNeeds: string[];
  stageCondition?: Condition;
  /** Variables of the pipeline, the stage and the job, in that order (later wins). */
  variables: Record<string, string>;
  /** Variables read from other jobs' outputs when the job starts. */
  outputs: Record<string, OutputRef>;
  steps: PlannedStep[];
}

export interface PipelinePlan {
  jobs: PlannedJob[];
  /** Whether the file had jobs (or stages), rather than a list of steps. */
  hasJobs: boolean;
}

export interface PlanOptions {
  /** `--param name=value`, over the file's defaults. */
  params?: Record<string, string>;
  /** The major version of this extension's task `name`, or undefined when it is not one of them. */
  taskMajor(name: string): number | undefined;
  /** This extension's task names: a task one or two letters away from one of them is a typo, not a built-in task. */
  tasks: string[];
}

type Json = unknown;
type Record_ = Record<string, Json>;

const isRecord = (value: Json): value is Record_ => !!value && typeof value === 'object' && !Array.isArray(value);
const SCRIPT_KINDS = ['script', 'bash', 'pwsh', 'powershell', 'checkout', 'download', 'publish', 'getPackage', 'reviewApp', 'downloadBuild', 'restoreCache', 'saveCache'];
const PARAMETER = /^\s*parameters(?:\.([A-Za-z_][\w-]*)|\[\s*'([^']+)'\s*\])\s*$/;
const OUTPUT = /^\s*(?:dependencies\.([\w-]+)|stageDependencies\.([\w-]+)\.([\w-]+))\.outputs\[\s*(['"])([^'"]+)\4\s*\]\s*$/;

/** The one YAML document of a pipeline file, read as the tasks read theirs (a syntax error or hostile nesting at its line). */
function readYaml(text: string, source: string): Document.Parsed {
  let documents: Document.Parsed[];
  try {
    documents = parseDocuments(text, source);
  } catch (error) {
    throw error instanceof UserError ? new PipelineError(formatError(error)) : error;
  }
  if (documents.length === 1) return documents[0];
  throw new PipelineError(documents.length ? `${source} holds ${documents.length} YAML documents: a pipeline is one.` : `${source} holds no pipeline: give stages, jobs, steps, or a '- task:' step.`);
}

/** Reads a pipeline (or a list of steps, or one step) from `text`; `source` names it in messages. */
export function planPipeline(text: string, source: string, options: PlanOptions): PipelinePlan {
  const doc = readYaml(text, source);
  const at = (offset: number | undefined) => `${source}:${offset === undefined ? 1 : lineOf(text, offset)}`;
  // Compile-time syntax the runner does not expand is refused where it stands.
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && String(pair.key.value).includes('${{')) {
        throw new PipelineError(`${at(pair.key.range?.[0])}: '${String(pair.key.value)}' is a conditional insertion or each loop, which the local runner does not expand; it expands only \${{ parameters.name }} values.`);
      }
      if (isScalar(pair.key) && (pair.key.value === 'template' || pair.key.value === 'extends')) {
        throw new PipelineError(`${at(pair.key.range?.[0])}: '${String(pair.key.value)}:' is not supported by the local runner: paste the template's content instead.`);
      }
    },
    Scalar(_, node) {
      if (typeof node.value !== 'string') return;
      for (const match of node.value.matchAll(/\$\{\{([^}]*)\}\}/g)) {
        if (!PARAMETER.test(match[1])) throw new PipelineError(`${at(node.range?.[0])}: '${match[0]}' is not supported: the local runner expands only \${{ parameters.name }}.`);
      }
      const value = node.value.trim();
      if (value.startsWith('$[') && !OUTPUT.test(/^\$\[(.*)\]$/s.exec(value)?.[1] ?? '')) {
        throw new PipelineError(`${at(node.range?.[0])}: '${value}' is not supported: the local runner reads only $[ dependencies.<job>.outputs['<step>.<var>'] ] and $[ stageDependencies.<stage>.<job>.outputs['<step>.<var>'] ].`);
      }
    },
  });
  const root = doc.toJS() as Json;
  const parameters = readParameters(isRecord(root) ? root.parameters : undefined, options.params ?? {}, source);
  const expanded = expand(isRecord(root) ? { ...root, parameters: undefined } : root, parameters);
  const planner = new Planner(options, source);
  if (Array.isArray(expanded)) return { jobs: [planner.job({ steps: expanded }, undefined, undefined, {})], hasJobs: false };
  if (!isRecord(expanded)) throw new PipelineError(`${source} holds no pipeline: give stages, jobs, steps, or a '- task:' step.`);
  if (typeof expanded.task === 'string') return { jobs: [planner.job({ steps: [expanded] }, undefined, undefined, {})], hasJobs: false };
  const variables = readVariables(expanded.variables, `${source}: variables`);
  if (Array.isArray(expanded.stages)) return { jobs: planner.stages(expanded.stages, variables), hasJobs: true };
  if (Array.isArray(expanded.jobs)) return { jobs: planner.jobs(expanded.jobs, undefined, variables), hasJobs: true };
  if (Array.isArray(expanded.steps)) return { jobs: [planner.job({ steps: expanded.steps }, undefined, undefined, variables)], hasJobs: false };
  throw new PipelineError(`${source} holds no pipeline: give stages, jobs, steps, or a '- task:' step.`);
}

/** The file's `parameters:` (a list of `{name, default}`, or a map of defaults) with `--param` values over them. */
function readParameters(declared: Json, given: Record<string, string>, source: string): Map<string, Json> {
  const values = new Map<string, Json>();
  if (Array.isArray(declared)) {
    for (const p of declared) if (isRecord(p) && typeof p.name === 'string') values.set(p.name, p.default);
  } else if (isRecord(declared)) {
    for (const [name, value] of Object.entries(declared)) values.set(name, value);
  }
  for (const [name, value] of Object.entries(given)) {
    if (!values.has(name)) throw new PipelineError(`--param ${name}: ${source} declares no parameter '${name}' (it has: ${[...values.keys()].join(', ') || 'none'}).`);
    values.set(name, value);
  }
  return values;
}

/** Every `${{ parameters.x }}` replaced: a value that is only the expression takes the parameter's own value (a list, a boolean). */
function expand(node: Json, parameters: Map<string, Json>): Json {
  const value = (expression: string) => {
    const [, dotted, quoted] = PARAMETER.exec(expression)!;
    const name = dotted ?? quoted;
    if (!parameters.has(name)) throw new PipelineError(`\${{ parameters.${name} }}: the pipeline declares no parameter '${name}'.`);
    const found = parameters.get(name);
    if (found === undefined) throw new PipelineError(`Parameter '${name}' has no default: give it with --param ${name}=<value>.`);
    return found;
  };
  if (typeof node === 'string') {
    const whole = /^\s*\$\{\{([^}]*)\}\}\s*$/.exec(node);
    if (whole) return value(whole[1]);
    return node.replace(/\$\{\{([^}]*)\}\}/g, (_, expression: string) => {
      const found = value(expression);
      if (typeof found === 'object' && found !== null) throw new PipelineError(`'${node}': parameter ${expression.trim()} is a list or object, which can only be a value of its own.`);
      return String(found);
    });
  }
  if (Array.isArray(node)) return node.map((item) => expand(item, parameters));
  if (isRecord(node)) return Object.fromEntries(Object.entries(node).map(([key, item]) => [key, expand(item, parameters)]));
  return node;
}

/** `variables:` as a map, or a list of `{name, value}`; groups and templates are refused. */
function readVariables(node: Json, where: string): Record<string, string> {
  if (node === undefined || node === null) return {};
  const out: Record<string, string> = {};
  if (isRecord(node)) {
    for (const [name, value] of Object.entries(node)) out[name] = scalar(value, `${where}: ${name}`);
    return out;
  }
  if (!Array.isArray(node)) throw new PipelineError(`${where} is neither a map nor a list.`);
  for (const entry of node) {
    if (isRecord(entry) && typeof entry.name === 'string') out[entry.name] = scalar(entry.value, `${where}: ${entry.name}`);
    else if (isRecord(entry) && 'group' in entry) throw new PipelineError(`${where}: variable group '${String(entry.group)}' cannot be read locally: give its variables with --var Name=value.`);
    else throw new PipelineError(`${where}: an entry is not '- name: ..., value: ...'.`);
  }
  return out;
}

function scalar(value: Json, where: string): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') throw new PipelineError(`${where} is a list or map; a variable or input takes a single value.`);
  return String(value);
}

/** `dependsOn:` as a list of names: absent is `fallback`. */
function dependsOn(node: Json, fallback: string[]): string[] {
  if (node === undefined) return fallback;
  if (node === null) return [];
  return (Array.isArray(node) ? node : [node]).map(String);
}

/** Orders items so each comes after what it depends on, otherwise keeping the file's order. */
function order<T>(items: T[], id: (item: T) => string, needs: (item: T) => string[], what: string): T[] {
  const byId = new Map(items.map((item) => [id(item), item]));
  const done = new Set<string>();
  const out: T[] = [];
  const visiting = new Set<string>();
  const place = (item: T) => {
    const key = id(item);
    if (done.has(key)) return;
    if (visiting.has(key)) throw new PipelineError(`${what} '${key}' depends on itself through dependsOn.`);
    visiting.add(key);
    for (const need of needs(item)) {
      const other = byId.get(need);
      if (!other) throw new PipelineError(`${what} '${key}' depends on '${need}', which is not one of ${[...byId.keys()].join(', ')}.`);
      place(other);
    }
    visiting.delete(key);
    done.add(key);
    out.push(item);
  };
  items.forEach(place);
  return out;
}

/** The node's `condition:`, parsed; one the runner cannot evaluate is refused. */
function conditionOf(node: Record_, where: string): Condition | undefined {
  if (node.condition === undefined || node.condition === null) return undefined;
  try {
    return parseCondition(String(node.condition));
  } catch (error) {
    if (!(error instanceof ConditionError)) throw error;
    throw new PipelineError(`${where} has a condition the local runner does not evaluate: ${error.message}. Remove or simplify it to run this file.`);
  }
}

class Planner {
  constructor(private readonly options: PlanOptions, private readonly source: string) {}

  stages(stages: Json[], variables: Record<string, string>): PlannedJob[] {
    const list = stages.map((s, index) => {
      if (!isRecord(s) || typeof s.stage !== 'string') throw new PipelineError(`${this.source}: stage ${index + 1} has no 'stage:' name.`);
      return s as Record_ & { stage: string };
    });
    // A stage without dependsOn depends on the one before it.
    const needs = new Map(list.map((s, i) => [s.stage, dependsOn(s.dependsOn, i ? [list[i - 1].stage] : [])]));
    const jobs: PlannedJob[] = [];
    for (const stage of order(list, (s) => s.stage, (s) => needs.get(s.stage)!, 'stage')) {
      const stageCondition = conditionOf(stage, `stage '${stage.stage}'`);
      const stageVariables = { ...variables, ...readVariables(stage.variables, `stage '${stage.stage}': variables`) };
      const planned = this.jobs(Array.isArray(stage.jobs) ? stage.jobs : [], stage.stage, stageVariables);
      for (const job of planned) {
        job.stageNeeds = needs.get(stage.stage)!;
        job.stageCondition = stageCondition;
        for (const ref of Object.values(job.outputs)) {
          if (ref.stage && !needs.get(stage.stage)!.includes(ref.stage)) {
            throw new PipelineError(`job '${job.key}' reads stageDependencies.${ref.stage}, but stage '${stage.stage}' does not depend on '${ref.stage}': add it to the stage's dependsOn.`);
          }
        }
      }
      jobs.push(...planned);
    }
    return jobs;
  }

  jobs(jobs: Json[], stage: string | undefined, variables: Record<string, string>): PlannedJob[] {
    const list = jobs.map((j, index) => {
      const name = isRecord(j) ? (j.job ?? j.deployment) : undefined;
      if (!isRecord(j) || typeof name !== 'string') throw new PipelineError(`${this.source}: job ${index + 1}${stage ? ` of stage '${stage}'` : ''} has no 'job:' or 'deployment:' name.`);
      return { node: j, name, needs: dependsOn(j.dependsOn, []) };
    });
    return order(list, (j) => j.name, (j) => j.needs, 'job').map(({ node, name, needs }) => {
      const job = this.job(node, name, stage, variables);
      job.needs = needs.map((need) => (stage ? `${stage}/${need}` : need));
      for (const ref of Object.values(job.outputs)) {
        if (!ref.stage && !needs.includes(ref.job)) throw new PipelineError(`job '${job.key}' reads dependencies.${ref.job}, but does not list '${ref.job}' in dependsOn.`);
      }
      return job;
    });
  }

  /** A job; `name` undefined: the steps of a file without jobs. */
  job(node: Record_, name: string | undefined, stage: string | undefined, inherited: Record<string, string>): PlannedJob {
    const where = name === undefined ? this.source : `job '${stage ? `${stage}/` : ''}${name}'`;
    const condition = conditionOf(node, where);
    const strategy = isRecord(node.strategy) ? node.strategy : undefined;
    let steps = node.steps;
    if (node.deployment !== undefined) {
      const runOnce = isRecord(strategy?.runOnce) ? strategy.runOnce : undefined;
      if (!runOnce || !isRecord(runOnce.deploy)) throw new PipelineError(`${where}: only deployment jobs with strategy runOnce (deploy: steps:) run locally.`);
      steps = runOnce.deploy.steps;
    } else if (strategy) {
      throw new PipelineError(`${where} has a strategy (${Object.keys(strategy).join(', ')}), which the local runner does not fan out: run one leg by giving its values with --var, on a copy without the strategy.`);
    }
    const variables = { ...inherited };
    const outputs: Record<string, OutputRef> = {};
    for (const [key, value] of Object.entries(readVariables(node.variables, `${where}: variables`))) {
      const match = /^\s*\$\[(.*)\]\s*$/s.exec(value);
      const ref = match && OUTPUT.exec(match[1]);
      if (ref) outputs[key] = { job: ref[1] ?? ref[3], stage: ref[2], variable: ref[5] };
      else variables[key] = value;
    }
    return {
      key: stage ? `${stage}/${name}` : name ?? 'Job',
      stage,
      job: name ?? 'Job',
      deployment: node.deployment !== undefined,
      needs: [],
      condition,
      stageNeeds: [],
      variables,
      outputs,
      steps: (Array.isArray(steps) ? steps : []).map((step, index) => this.step(step, `${where}${name === undefined ? ':' : ','} step ${index + 1}`)),
    };
  }

  step(node: Json, where: string): PlannedStep {
    if (!isRecord(node)) throw new PipelineError(`${where} is not a step.`);
    const label = typeof node.displayName === 'string' ? ` ('${node.displayName}')` : '';
    if (node.enabled === false) return { kind: 'skip', notice: `skipped: ${where}${label} is disabled (enabled: false)` };
    const kind = SCRIPT_KINDS.find((k) => k in node);
    if (kind) return { kind: 'skip', notice: `skipped: ${kind === 'checkout' ? `checkout: ${String(node.checkout)}` : `${kind} step`}${label} does not run locally` };
    if (typeof node.task !== 'string') throw new PipelineError(`${where} is not a step the local runner knows (task, script, bash, checkout, ...).`);
    const [task, major] = node.task.split('@');
    const ours = this.options.taskMajor(task);
    if (ours === undefined) {
      const meant = this.options.tasks.find((name) => nearMiss(name, task));
      if (meant) throw new PipelineError(`${where}: Unknown task '${task}' (did you mean ${meant}?): tasks are ${this.options.tasks.join(', ')}`);
      return { kind: 'skip', notice: `skipped: built-in task ${node.task}${label} does not run locally` };
    }
    if (String(ours) !== major) throw new PipelineError(`${where}: ${task} has major version ${ours} here, not '${major ?? ''}'.`);
    const condition = conditionOf(node, `${where} (${node.task})`);
    const inputs: Record<string, string> = {};
    for (const [key, value] of Object.entries(isRecord(node.inputs) ? node.inputs : {})) inputs[key] = scalar(value, `${where}: input ${key}`);
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(isRecord(node.env) ? node.env : {})) env[key] = scalar(value, `${where}: env ${key}`);
    return { kind: 'task', task, ref: node.task, name: typeof node.name === 'string' ? node.name : undefined, inputs, env, continueOnError: node.continueOnError === true, condition };
  }
}

/** Whether `a` and `b` differ by at most two letters (case aside), so one is likely a typo of the other. */
function nearMiss(a: string, b: string): boolean {
  const [x, y] = [a.toLowerCase(), b.toLowerCase()];
  if (Math.abs(x.length - y.length) > 2) return false;
  let previous = Array.from({ length: y.length + 1 }, (_, i) => i);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[y.length] <= 2;
}
