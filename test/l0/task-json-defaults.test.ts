import * as assert from 'node:assert/strict';
import type { Agent } from '../../shared/agent';
import { readOptions as buildOptions } from '../../tasks/BuildRustContainers/task';
import { readOptions as pullRequestOptions } from '../../tasks/CreateEnvPR/task';
import { readOptions as tagOptions } from '../../tasks/TagComponents/task';
import { readOptions as gitopsOptions } from '../../tasks/UpdateGitOpsVersions/task';
import { readOptions as validateOptions } from '../../tasks/ValidateGitOps/task';
import { MemoryAgent } from '../helpers/memory-agent';
import { expandMacros, readTaskJson } from '../helpers/run-task';

/** What the agent defines for every job, for the `$(...)` defaults in task.json. */
const VARIABLES = {
  'Build.SourcesDirectory': '/agent/_work/1/s',
  'Build.ArtifactStagingDirectory': '/agent/_work/1/a',
  'System.TeamProject': 'Edge',
};

const TASKS: Array<{ task: string; readOptions: (agent: Agent) => unknown; required?: Record<string, string>; emptyMeansNone?: string[] }> = [
  { task: 'TagComponents', readOptions: tagOptions },
  // Empty manifestPath means "write no images.json": only an unset input takes the default.
  { task: 'BuildRustContainers', readOptions: buildOptions, required: { registry: 'localhost:5000' }, emptyMeansNone: ['manifestPath'] },
  { task: 'UpdateGitOpsVersions', readOptions: gitopsOptions, required: { gitopsPath: '/gitops', environment: 'devtest' } },
  { task: 'CreateEnvPR', readOptions: pullRequestOptions, required: { gitopsPath: '/gitops', environment: 'devtest' } },
  { task: 'ValidateGitOps', readOptions: validateOptions },
];

describe('task.json defaults: every task reads an input left empty as its task.json default', () => {
  for (const { task, readOptions, required = {}, emptyMeansNone = [] } of TASKS) {
    it(`${task}: the options with every input at its task.json default equal those with none set`, async () => {
      const inputs = readTaskJson(task).inputs ?? [];
      const defaults = Object.fromEntries(
        inputs.filter((i) => i.defaultValue && !emptyMeansNone.includes(i.name)).map((i) => [i.name, expandMacros(i.defaultValue!, VARIABLES)]),
      );
      assert.ok(Object.keys(defaults).length >= 5, `${task} has defaults to compare`);
      const read = async (given: Record<string, string>) => {
        const agent = new MemoryAgent({ inputs: { ...given, ...required }, variables: VARIABLES });
        try {
          // The scratch directory differs per agent; everything else must not.
          return { ...((await readOptions(agent)) as object), tempDir: undefined };
        } finally {
          agent.dispose();
        }
      };
      assert.deepEqual(await read(defaults), await read({}));
    });
  }
});
