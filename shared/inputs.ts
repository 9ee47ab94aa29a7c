import type { Agent, ServiceConnection } from './agent';
import { shown, UserError } from './errors';

/** Splits a multiLine or comma-separated input into trimmed, non-empty items. */
export function parseList(value: string | undefined): string[] {
  return (value ?? '')
    .split(/[\r\n,]+/)
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

/** The input's value; a UserError naming the input when it is empty. */
export function requiredInput(agent: Agent, name: string): string {
  const value = agent.input(name);
  if (!value) throw new UserError(`Input '${name}' is required: set it in the task's inputs.`);
  return value;
}

/** A boolean input: `true` or `false` in any case, `defaultValue` when empty; anything else is refused. */
export function boolInput(agent: Agent, name: string, defaultValue: boolean): boolean {
  const value = agent.input(name).toLowerCase();
  if (!value) return defaultValue;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new UserError(`Input '${name}' must be true or false, not ${shown(value)}.`);
}

/** `$(Name)` macros the agent left unexpanded (e.g. from a template) filled from the pipeline's variables; unknown ones stay. */
export function expandVariables(agent: Agent, text: string): string {
  return text.replace(/\$\(([\w.]+)\)/g, (whole, name: string) => agent.variable(name) ?? whole);
}

/** The service connection an input names; undefined when the input is empty. */
export function serviceConnection(agent: Agent, input: string): ServiceConnection | undefined {
  const id = agent.input(input);
  if (!id) return undefined;
  const endpoint = agent.endpoint(id);
  if (!endpoint) {
    throw new UserError(
      `The service connection ${shown(id)} (input '${input}') was not found, or this pipeline is not authorized to use it: ` +
        `check the name, and authorize the pipeline in Project settings > Service connections > Security.`,
    );
  }
  return endpoint;
}

/** The run's results page (`<collection><project>/_build/results?buildId=<id>`), from the pipeline's variables; undefined outside a pipeline. */
export function runUrl(agent: Agent): string | undefined {
  const collection = agent.collectionUrl();
  const project = agent.variable('System.TeamProject');
  const buildId = agent.variable('Build.BuildId');
  return collection && project && buildId ? `${collection.replace(/\/?$/, '/')}${encodeURIComponent(project)}/_build/results?buildId=${buildId}` : undefined;
}
