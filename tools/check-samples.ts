import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, visit, type Node, type YAMLMap } from 'yaml';

/** Built-in Azure Pipelines tasks the samples may use beside ours. */
const BUILT_IN = new Set(['PublishPipelineArtifact@1', 'DownloadPipelineArtifact@2', 'Bash@3', 'PowerShell@2', 'Docker@2', 'checkout']);

interface TaskInput {
  name: string;
  required?: boolean;
  defaultValue?: string;
  aliases?: string[];
}

/**
 * Checks every `- task:` step in the YAML files under `samplesDir` against the task.json of that task in
 * `tasksDir`: the task exists at that major version, every input is known, required inputs without a
 * default are given. And per job (a map with `steps:`): a step with `changedOnly: true` needs the job's
 * `checkout: self` with `fetchDepth: 0` and `fetchTags: true`; UpdateGitOpsVersions is followed by CreateEnvPR
 * (a sample shows the pull request); `download: <alias>` names a pipeline resource of the file.
 * Returns problems as 'file:line: message'.
 */
export function checkSamples(samplesDir: string, tasksDir: string): string[] {
  const problems: string[] = [];
  const files = readdirSync(samplesDir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.ya?ml$/.test(f));
  for (const file of files) {
    const full = path.join(samplesDir, file);
    const lineCounter = new LineCounter();
    const docs = parseAllDocuments(readFileSync(full, 'utf8'), { lineCounter });
    const at = (node: Node | null | undefined) => `${path.join(path.basename(samplesDir), file)}:${node?.range ? lineCounter.linePos(node.range[0]).line : 1}`;
    for (const doc of docs) {
      if ('errors' in doc && doc.errors.length) {
        problems.push(`${path.join(path.basename(samplesDir), file)}: does not parse: ${doc.errors[0].message}`);
        continue;
      }
      const pipelines = new Set<string>();
      visit(doc, {
        Map(_, map) {
          const alias = map.get('pipeline');
          if (typeof alias === 'string' && map.has('source')) pipelines.add(alias);
        },
      });
      visit(doc, {
        Map(_, map) {
          const steps = map.get('steps', true);
          if (isSeq(steps)) problems.push(...checkJob(steps.items.filter(isMap), pipelines, at));
          const taskNode = map.get('task', true);
          if (!isScalar(taskNode) || typeof taskNode.value !== 'string') return;
          const ref = taskNode.value;
          const [name, major] = ref.split('@');
          const taskJson = path.join(tasksDir, name, 'task.json');
          if (!existsSync(taskJson)) {
            if (!BUILT_IN.has(ref)) problems.push(`${at(taskNode)}: unknown task '${ref}'`);
            return;
          }
          const task = JSON.parse(readFileSync(taskJson, 'utf8')) as { version: { Major: number }; inputs?: TaskInput[] };
          if (String(task.version.Major) !== major) problems.push(`${at(taskNode)}: ${name} has major version ${task.version.Major}, not '${major}'`);
          const known = new Map<string, TaskInput>();
          for (const input of task.inputs ?? []) for (const n of [input.name, ...(input.aliases ?? [])]) known.set(n, input);
          const inputsNode = map.get('inputs', true);
          const given = new Set<string>();
          if (isMap(inputsNode)) {
            for (const pair of inputsNode.items) {
              const key = isScalar(pair.key) ? String(pair.key.value) : '';
              const input = known.get(key);
              if (!input) problems.push(`${at(pair.key as Node)}: ${name} has no input '${key}'`);
              else given.add(input.name);
            }
          }
          for (const input of task.inputs ?? []) {
            if (input.required && !input.defaultValue && !given.has(input.name)) {
              problems.push(`${at(taskNode)}: ${name} requires input '${input.name}'`);
            }
          }
        },
      });
    }
  }
  return problems;
}

/** The rules a job of a sample follows beside its task inputs (see checkSamples). */
function checkJob(steps: YAMLMap[], pipelines: Set<string>, at: (node: Node | null | undefined) => string): string[] {
  const problems: string[] = [];
  const input = (step: YAMLMap, name: string) => {
    const inputs = step.get('inputs', true);
    return isMap(inputs) ? inputs.get(name) : undefined;
  };
  const task = (step: YAMLMap) => String(step.get('task') ?? '').split('@')[0];
  const checkout = steps.find((step) => step.get('checkout') === 'self');
  for (const [index, step] of steps.entries()) {
    if (input(step, 'changedOnly') === true && !(checkout && checkout.get('fetchTags') === true && checkout.get('fetchDepth') === 0)) {
      problems.push(`${at(step)}: changedOnly compares with tags: the job needs '- checkout: self' with fetchDepth: 0 and fetchTags: true`);
    }
    if (task(step) === 'UpdateGitOpsVersions' && input(step, 'dryRun') !== true && !steps.slice(index + 1).some((later) => task(later) === 'CreateEnvPR')) {
      problems.push(`${at(step)}: UpdateGitOpsVersions is not followed by CreateEnvPR in its job: the change would stay in the working copy`);
    }
    const download = step.get('download');
    if (typeof download === 'string' && download !== 'current' && download !== 'none' && !pipelines.has(download)) {
      problems.push(`${at(step)}: download: ${download} names no pipeline resource of this file (resources: pipelines: - pipeline: ${download})`);
    }
  }
  return problems;
}
