// Shared set-up of the TagComponents mock-runner scenarios (run by MockTestRunner in a child node).
// The scenario's inputs, variables and token come from L0_SCENARIO (JSON), written by the test.
import * as path from 'node:path';
import { TaskMockRunner } from 'azure-pipelines-task-lib/mock-run';

export interface Scenario {
  inputs: Record<string, string>;
  variables?: Record<string, string>;
  token?: string;
}

/** The unbundled task (tsc output), whose requires TaskMockRunner can intercept. */
export const taskPath = path.resolve(__dirname, '..', '..', '..', 'tasks', 'TagComponents', 'index.js');

export function runner(): TaskMockRunner {
  const scenario = JSON.parse(process.env.L0_SCENARIO ?? '{}') as Scenario;
  const tmr = new TaskMockRunner(taskPath);
  for (const [name, value] of Object.entries(scenario.inputs ?? {})) tmr.setInput(name, value);
  for (const [name, value] of Object.entries(scenario.variables ?? {})) process.env[name.replace(/\./g, '_').toUpperCase()] = value;
  if (scenario.token) {
    process.env.ENDPOINT_URL_SYSTEMVSSCONNECTION = 'https://dev.azure.com/edge/';
    process.env.ENDPOINT_AUTH_SYSTEMVSSCONNECTION = JSON.stringify({ scheme: 'OAuth', parameters: { AccessToken: scenario.token } });
  }
  return tmr;
}
