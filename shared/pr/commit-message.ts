import { UserError } from '../errors';
import { fillTemplate } from '../template';
import { shortImage, type BuildRef, type EnvChange } from './changes';

/** What a CreateEnvPR commit message records: each change and the producing build. */
export interface CommitRecord {
  changes: Array<Pick<EnvChange, 'component' | 'from' | 'to' | 'bump'>>;
  build?: BuildRef;
}

const NEW = '(new)';

/**
 * `chore(devtest): heuristic v1.4.2, …` (or the `commitMessage` input's template filled: `{environment}`, `{count}`,
 * `{components}`), then one line per change (`component: from -> to (bump)`, `(new)` for a component the
 * environment did not have) and the producing build as a trailer (`Build: <number> (id <id>) <url>`), which
 * later runs read back (`parseCommitMessage`) whatever the template says.
 */
export function commitMessage(environment: string, changes: EnvChange[], build?: BuildRef, template = ''): string {
  const names = changes.map((c) => `${c.component} ${shortImage(c.to)}`);
  const values = { environment, count: String(changes.length), components: names.join(', ') };
  const subject = template
    ? fillTemplate('commitMessage', template, values).trim()
    : names.length === 0 ? `chore(${environment}): update manifests` : names.length <= 3 ? `chore(${environment}): ${names.join(', ')}` : `chore(${environment}): update ${names.length} components`;
  if (!subject) throw new UserError(`Input 'commitMessage' is empty once filled: give the commit a message, or leave it empty for the default.`);
  const body = changes.map((c) => `${c.component}: ${c.from ?? NEW} -> ${c.to}${c.bump ? ` (${c.bump})` : ''}`);
  const trailer = build ? [`Build: ${build.number ?? build.id}${build.id ? ` (id ${build.id})` : ''}${build.url ? ` ${build.url}` : ''}`] : [];
  return [subject, ...[body, trailer].flatMap((part) => (part.length ? ['', ...part] : []))].join('\n') + '\n';
}

/** The changes and build a commit message written by `commitMessage` records; lines of any other form are ignored. */
export function parseCommitMessage(message: string): CommitRecord {
  const changes: CommitRecord['changes'] = [];
  let build: BuildRef | undefined;
  for (const line of message.split('\n').slice(1)) {
    const change = /^(.+?): (\S+) -> (\S+)(?: \(([^()\s]+)\))?$/.exec(line);
    if (change) {
      const [, component, from, to, bump] = change;
      changes.push({ component, ...(from === NEW ? {} : { from }), to, ...(bump ? { bump } : {}) });
      continue;
    }
    // A build number may hold spaces (a custom run name); its id is digits, its URL has no space.
    const trailer = /^Build: (.+?)(?: \(id (\S+)\))?(?: (https?:\/\/\S+))?$/.exec(line);
    if (trailer) build = { number: trailer[1], ...(trailer[2] ? { id: trailer[2] } : {}), ...(trailer[3] ? { url: trailer[3] } : {}) };
  }
  return { changes, ...(build ? { build } : {}) };
}
