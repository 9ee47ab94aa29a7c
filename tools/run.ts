import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expandMacros, readTaskJson, repoRoot, runTask, type Endpoint } from './local-agent';
import { type Condition, evaluateCondition } from './condition';
import { PipelineError, planPipeline, type PipelinePlan, type PlannedJob, type TaskStep } from './pipeline';

const usage = `Runs tasks of this extension on this machine, as the Azure Pipelines agent would.

  npm run task -- <Task> [--input name=value]... [options]
  npm run task -- --yaml <file|-> [--param name=value]... [options]
        a pipeline file (stages, jobs, steps), a list of steps, or one step copied from a pipeline:
          - task: UpdateGitOpsVersions@1
            inputs: { environment: devtest, ... }
        Jobs run in the order their dependsOn allow, steps in order. A step's output variables reach
        later steps of its job as $(name.var) and other jobs through job variables such as
        x: $[ dependencies.<job>.outputs['<step>.<var>'] ]. \${{ parameters.x }} takes the file's default
        or --param; conditions (and, or, not, eq, ne, in, startsWith, ..., variables['X'], succeeded())
        are evaluated, Build.Reason being Manual unless --var says otherwise. Built-in tasks (AzureCLI@2,
        PublishPipelineArtifact@1, ...), scripts and checkouts are skipped with a notice: nothing moves
        between jobs but output variables. Templates, \${{ if }} and \${{ each }}, matrices and other
        conditions are refused before anything runs.
Options:
  --param name=value      a pipeline parameter (overrides its default)
  --input name=value      an input for every task step (e.g. --input dryRun=true)
  --var Name=value        a pipeline variable, e.g. --var Build.BuildId=42 (expands $(Name) in inputs)
  --collection-url URL    the organisation URL (SystemVssConnection); the job token is read from the
                          SYSTEM_ACCESSTOKEN environment variable, never from the command line
  --endpoint id=URL       a service connection; its username and password come from the environment
                          variables ENDPOINT_<ID>_USERNAME and ENDPOINT_<ID>_PASSWORD
  --var Agent.ProxyUrl=http://proxy:3128 --var Agent.ProxyUsername=NAME
                          the agent's proxy (and Agent.ProxyBypassList='["regex"]', Agent.CAInfo=FILE);
                          its password is read from the AGENT_PROXYPASSWORD environment variable
  --cwd DIR               working directory (default: the current one; also Build.SourcesDirectory)
  --debug                 also print the task's debug lines
`;

interface Context {
  inputs: Record<string, string>;
  variables: Record<string, string>;
  endpoints: Record<string, Endpoint>;
  collectionUrl?: string;
  cwd: string;
  debug: boolean;
}

function tasks(): string[] {
  return readdirSync(path.join(repoRoot, 'tasks')).filter((d) => existsSync(path.join(repoRoot, 'tasks', d, 'task.json')));
}

function taskMajor(name: string): number | undefined {
  if (!tasks().includes(name)) return undefined;
  return (readTaskJson(name) as { version?: { Major: number } }).version?.Major;
}

const write = (text: string) => process.stdout.write(text);

async function main(argv: string[]): Promise<number> {
  if (!argv.length || argv.includes('--help') || argv.includes('-h')) {
    write(usage);
    return argv.length ? 0 : 2;
  }
  const context: Context = { inputs: {}, variables: {}, endpoints: {}, cwd: process.cwd(), debug: false };
  const params: Record<string, string> = {};
  let yaml: string | undefined;
  let task: string | undefined;
  const pair = (value: string | undefined, flag: string): [string, string] => {
    const at = value?.indexOf('=') ?? -1;
    if (!value || at < 1) throw new Error(`${flag} takes name=value`);
    return [value.slice(0, at), value.slice(at + 1)];
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => argv[++i];
    if (flag === '--input') {
      const [k, v] = pair(value(), flag);
      context.inputs[k] = v;
    } else if (flag === '--var') {
      const [k, v] = pair(value(), flag);
      context.variables[k] = v;
    } else if (flag === '--param') {
      const [k, v] = pair(value(), flag);
      params[k] = v;
    } else if (flag === '--endpoint') {
      const [id, url] = pair(value(), flag);
      const env = (suffix: string) => process.env[`ENDPOINT_${id.toUpperCase().replace(/\W/g, '_')}_${suffix}`] ?? '';
      context.endpoints[id] = { url, parameters: { username: env('USERNAME'), password: env('PASSWORD'), registry: url } };
    } else if (flag === '--yaml') yaml = value();
    else if (flag === '--collection-url') context.collectionUrl = value();
    else if (flag === '--cwd') context.cwd = path.resolve(value());
    else if (flag === '--debug') context.debug = true;
    else if (!flag.startsWith('--') && !task) task = flag.split('@')[0];
    else throw new Error(`Unknown argument '${flag}'\n\n${usage}`);
  }
  let plan: PipelinePlan;
  if (yaml !== undefined) {
    const source = yaml === '-' ? 'stdin' : yaml;
    plan = planPipeline(readFileSync(yaml === '-' ? 0 : yaml, 'utf8'), source, { params, taskMajor, tasks: tasks() });
    if (!plan.jobs.some((job) => job.steps.some((step) => step.kind === 'task'))) throw new Error(`No step of this extension's tasks (${tasks().join(', ')}) found in ${source}.`);
  } else if (task) {
    if (!tasks().includes(task)) throw new Error(`Unknown task '${task}': tasks are ${tasks().join(', ')}`);
    const step: TaskStep = { kind: 'task', task, ref: task, inputs: {}, env: {}, continueOnError: false };
    plan = { jobs: [{ key: 'Job', job: 'Job', deployment: false, needs: [], stageNeeds: [], variables: {}, outputs: {}, steps: [step] }], hasJobs: false };
  } else throw new Error(`Name a task or give --yaml\n\n${usage}`);
  if (Object.keys(params).length && yaml === undefined) throw new Error('--param needs --yaml: parameters belong to a pipeline file.');
  return runPlan(plan, context);
}

/** Runs the jobs in order; stops at the first failed step (unless continueOnError). Returns the exit code. */
async function runPlan(plan: PipelinePlan, context: Context): Promise<number> {
  const outputs = new Map<string, Record<string, string>>();
  /** Jobs that ran to success; a job or stage whose condition was false is skipped, and so are those needing it by default. */
  const succeeded = new Set<string>();
  const stageRuns = new Map<string, boolean>();
  let ran = 0;
  let skipped = 0;
  for (const job of plan.jobs) {
    const workspace = mkdtempSync(path.join(os.tmpdir(), 'local-job-'));
    const variables = jobVariables(job, workspace, outputs, context.variables);
    if (job.stage && !stageRuns.has(job.stage)) {
      const stageJobs = (stage: string) => plan.jobs.filter((j) => j.stage === stage);
      const ready = job.stageNeeds.every((stage) => stageRuns.get(stage) && stageJobs(stage).every((j) => succeeded.has(j.key)));
      stageRuns.set(job.stage, runs(job.stageCondition, ready, variables, `stage ${job.stage}`));
    }
    if ((job.stage && !stageRuns.get(job.stage)) || !runs(job.condition, job.needs.every((key) => succeeded.has(key)), variables, `job ${job.key}`)) continue;
    if (plan.hasJobs) write(`\n##### Job ${job.key} (workspace ${workspace})\n`);
    const produced: Record<string, string> = {};
    for (const step of job.steps) {
      if (step.kind === 'skip') {
        write(`NOTICE: ${step.notice}\n`);
        skipped++;
        continue;
      }
      if (!runs(step.condition, true, variables, `${step.ref}${step.name ? ` (${step.name})` : ''}`)) continue;
      ran++;
      write(`\n=== ${plan.hasJobs ? `${job.key}: ` : ''}${step.task}${step.name ? ` (${step.name})` : ''} ===\n`);
      const result = await runTask(step.task, {
        inputs: { ...step.inputs, ...context.inputs },
        variables,
        endpoints: context.endpoints,
        cwd: context.cwd,
        collectionUrl: context.collectionUrl,
        accessToken: process.env.SYSTEM_ACCESSTOKEN,
        secretVariables: process.env.AGENT_PROXYPASSWORD ? { 'Agent.ProxyPassword': process.env.AGENT_PROXYPASSWORD } : undefined,
        env: step.env,
        onLine: (line) => {
          if (!line.startsWith('##vso[') || (context.debug && line.startsWith('##vso[task.debug]'))) write(line + '\n');
        },
      });
      if (result.stderr.trim()) process.stderr.write(result.stderr);
      for (const warning of result.warnings) write(`WARNING: ${warning}\n`);
      for (const error of result.errors) write(`ERROR: ${error}\n`);
      write('\nOutput variables:\n');
      for (const [name, value] of Object.entries(result.outputs)) {
        write(`  ${name} = ${value}\n`);
        if (!step.name) continue;
        // $(step.var) for the job's later steps; dependencies.<job>.outputs['step.var'] for other jobs.
        variables[`${step.name}.${name}`] = value;
        produced[`${step.name}.${name}`] = value;
        if (job.deployment) produced[`${job.job}.${step.name}.${name}`] = value;
      }
      for (const summary of result.summaries) write(`\nSummary:\n${summary}\n`);
      write(`\nResult: ${result.result ?? 'none'}${result.message ? `: ${result.message}` : ''}\n`);
      if (result.result === 'Failed' || result.code !== 0) {
        if (step.continueOnError) {
          write('NOTICE: continueOnError: the job goes on\n');
          continue;
        }
        write(`\nStopped: ${step.ref} in ${plan.hasJobs ? `job ${job.key}` : 'the steps'} failed; nothing after it ran.\n`);
        return 1;
      }
    }
    outputs.set(job.key, produced);
    succeeded.add(job.key);
  }
  write(`\nRan ${ran} task step(s)${plan.hasJobs ? ` in ${succeeded.size} job(s)` : ''}; skipped ${skipped} step(s) that do not run locally.\n`);
  return 0;
}

/** Whether what `condition` guards runs; without one, whether what it depends on succeeded (the default `succeeded()`). */
function runs(condition: Condition | undefined, ready: boolean, variables: Record<string, string>, what: string): boolean {
  if (!condition) {
    if (!ready) write(`NOTICE: skipped: ${what}: what it depends on was skipped\n`);
    return ready;
  }
  const lookup = new Map(Object.entries(variables).map(([k, v]) => [k.toLowerCase(), v]));
  const result = evaluateCondition(condition, { variable: (name) => lookup.get(name.toLowerCase()), dependenciesSucceeded: ready });
  if (!result) write(`NOTICE: skipped: ${what}: its condition is false\n`);
  return result;
}

/**
 * A job's variables: the job's workspace (Pipeline.Workspace, its temp and staging folders), the pipeline's,
 * stage's and job's variables with `$(...)` filled, outputs of earlier jobs, then --var over all of them.
 */
function jobVariables(job: PlannedJob, workspace: string, outputs: Map<string, Record<string, string>>, given: Record<string, string>): Record<string, string> {
  const variables: Record<string, string> = {
    'Build.Reason': 'Manual',
    'Pipeline.Workspace': workspace,
    'Agent.TempDirectory': path.join(workspace, '_temp'),
    'Build.ArtifactStagingDirectory': path.join(workspace, 'a'),
    'System.JobName': job.job,
    ...(job.stage ? { 'System.StageName': job.stage } : {}),
  };
  mkdirSync(variables['Agent.TempDirectory'], { recursive: true });
  for (const [name, value] of Object.entries(job.variables)) variables[name] = expandMacros(value, { ...variables, ...given });
  for (const [name, ref] of Object.entries(job.outputs)) {
    const from = ref.stage ? `${ref.stage}/${ref.job}` : job.stage ? `${job.stage}/${ref.job}` : ref.job;
    const value = outputs.get(from)?.[ref.variable];
    if (value === undefined) write(`NOTICE: job ${job.key}: variable ${name} is empty: job ${from} set no output '${ref.variable}' (a step needs name: ${ref.variable.split('.')[0]})\n`);
    variables[name] = value ?? '';
  }
  return { ...variables, ...given };
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: Error) => {
      process.stderr.write(`${error instanceof PipelineError ? 'The local runner cannot run this pipeline: ' : ''}${error.message}\n`);
      process.exit(2);
    },
  );
}
