import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot, runTask, type Endpoint } from './local-agent';

const usage = `Runs a task of this extension on this machine, as the Azure Pipelines agent would.

  npm run task -- <Task> [--input name=value]... [options]
  npm run task -- --yaml <file|->                 a step copied from a pipeline:
                                                  - task: UpdateGitOpsVersions@1
                                                    inputs: { environment: devtest, ... }
Options:
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

export interface Step {
  task: string;
  inputs: Record<string, string>;
}

/** The `- task: Name@1` steps of a YAML snippet (a step, a list of steps, or a pipeline with steps). */
export function stepsFromYaml(text: string): Step[] {
  const steps: Step[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === 'object') {
      const record = node as Record<string, unknown>;
      if (typeof record.task === 'string') {
        const inputs = Object.fromEntries(Object.entries((record.inputs ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
        steps.push({ task: record.task.split('@')[0], inputs });
      } else Object.values(record).forEach(visit);
    }
  };
  for (const doc of parseAllDocuments(text)) {
    if ('errors' in doc && doc.errors.length) throw new Error(`The YAML does not parse: ${doc.errors[0].message}`);
    visit(doc.toJS());
  }
  return steps;
}

async function main(argv: string[]): Promise<number> {
  if (!argv.length || argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(usage);
    return argv.length ? 0 : 2;
  }
  let steps: Step[] = [];
  const inputs: Record<string, string> = {};
  const variables: Record<string, string> = {};
  const endpoints: Record<string, Endpoint> = {};
  let collectionUrl: string | undefined;
  let cwd = process.cwd();
  let debug = false;
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
      inputs[k] = v;
    } else if (flag === '--var') {
      const [k, v] = pair(value(), flag);
      variables[k] = v;
    } else if (flag === '--endpoint') {
      const [id, url] = pair(value(), flag);
      const env = (suffix: string) => process.env[`ENDPOINT_${id.toUpperCase().replace(/\W/g, '_')}_${suffix}`] ?? '';
      endpoints[id] = { url, parameters: { username: env('USERNAME'), password: env('PASSWORD'), registry: url } };
    } else if (flag === '--yaml') {
      const file = value();
      steps = stepsFromYaml(readFileSync(file === '-' ? 0 : file, 'utf8'));
      if (!steps.length) throw new Error(`No '- task:' step found in ${file === '-' ? 'stdin' : file}`);
    } else if (flag === '--collection-url') collectionUrl = value();
    else if (flag === '--cwd') cwd = path.resolve(value());
    else if (flag === '--debug') debug = true;
    else if (!flag.startsWith('--') && !task) task = flag.split('@')[0];
    else throw new Error(`Unknown argument '${flag}'\n\n${usage}`);
  }
  if (task) steps.push({ task, inputs: {} });
  for (const step of steps) Object.assign(step.inputs, inputs);
  let failed = false;
  for (const step of steps) {
    process.stdout.write(`\n=== ${step.task} ===\n`);
    const result = await runTask(step.task, {
      inputs: step.inputs,
      variables,
      endpoints,
      cwd,
      collectionUrl,
      accessToken: process.env.SYSTEM_ACCESSTOKEN,
      secretVariables: process.env.AGENT_PROXYPASSWORD ? { 'Agent.ProxyPassword': process.env.AGENT_PROXYPASSWORD } : undefined,
      onLine: (line) => {
        if (!line.startsWith('##vso[') || (debug && line.startsWith('##vso[task.debug]'))) process.stdout.write(line + '\n');
      },
    }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') throw new Error(`Unknown task '${step.task}': tasks are ${listTasks()}`);
      throw error;
    });
    if (result.stderr.trim()) process.stderr.write(result.stderr);
    for (const warning of result.warnings) process.stdout.write(`WARNING: ${warning}\n`);
    for (const error of result.errors) process.stdout.write(`ERROR: ${error}\n`);
    process.stdout.write('\nOutput variables:\n');
    for (const [name, value] of Object.entries(result.outputs)) process.stdout.write(`  ${name} = ${value}\n`);
    for (const summary of result.summaries) process.stdout.write(`\nSummary:\n${summary}\n`);
    process.stdout.write(`\nResult: ${result.result ?? 'none'}${result.message ? `: ${result.message}` : ''}\n`);
    if (result.result === 'Failed' || result.code !== 0) {
      failed = true;
      break;
    }
  }
  return failed ? 1 : 0;
}

function listTasks(): string {
  return readdirSync(path.join(repoRoot, 'tasks')).filter((d) => existsSync(path.join(repoRoot, 'tasks', d, 'task.json'))).join(', ');
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: Error) => {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    },
  );
}
