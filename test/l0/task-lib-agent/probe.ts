// The task-lib adapter alone, on the real task library: run as a child node with the agent's
// environment (INPUT_*, ENDPOINT_*, variables) set by the test, it reads through a TaskLibAgent, writes
// through it, and prints what it read as JSON on a marked line.
import * as path from 'node:path';
import { TaskLibAgent } from '../../../tasks/common/task-lib-agent';
import { repoRoot } from '../../helpers/run-task';

const agent = new TaskLibAgent(path.join(repoRoot, 'build', 'tasks', 'BuildRustContainers'));
const read = {
  input: agent.input('components'),
  unset: agent.input('platforms'),
  password: agent.secretInput('registryPassword'),
  variable: agent.variable('Build.BuildId'),
  unsetVariable: agent.variable('Build.NoSuchThing') ?? null,
  token: agent.accessToken() ?? null,
  collectionUrl: agent.collectionUrl() ?? null,
  docker: agent.endpoint('docker') ?? null,
  acr: agent.endpoint('acr') ?? null,
  arm: agent.endpoint('arm') ?? null,
  tfs: agent.endpoint('tfs') ?? null,
  missing: agent.endpoint('missing') ?? null,
};
agent.setOutput('images', '[{"a":"b;c]"}]\nnext line');
agent.progress(49.6, 'Building heuristic (1 of 2)');
agent.group('Building heuristic\n(two lines)');
agent.info('from the build: ##vso[task.setvariable variable=injected;isOutput=true]yes');
agent.info('##[endgroup] from the build');
agent.endGroup();
agent.warn('a warning', { file: 'environments/devtest/kustomization.yaml', line: 7 });
const summary = agent.summary('Probe summary', '# Probe\n');
console.log(`L0_READ ${JSON.stringify({ ...read, summary, tempDir: agent.tempDir() })}`);
agent.succeed('probed');
