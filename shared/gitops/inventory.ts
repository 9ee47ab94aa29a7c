import { type Lock, type LockEntry, lockReference } from '../lock/lockfile';
import { shortImage } from '../pr/changes';
import { changeBump, compareVersions, parseVersion } from '../versions/order';
import type { LockHistory } from './lock-history';

/**
 * What runs where, from the lock. In the summaries of UpdateGitOpsVersions, CreateEnvPR and ValidateGitOps:
 * a components × environments table whose cells hold the tag with the digest's first 12 hex characters,
 * the app revision when the lock records one, the step from the environment before it (environments in
 * lock order, devtest -> qa -> prod), the date the entry last changed (lock-history.ts) and its hold.
 *
 * The INVENTORY.md a GitOps repository can keep holds the same, one table per environment and without the
 * step between environments: each environment's pull request then changes only its own table, so the open
 * pull requests of devtest and qa both regenerate the file and still merge without a conflict.
 */

export interface InventoryOptions {
  /** When each entry last changed; without it the cells carry no date. */
  history?: LockHistory;
  /** Entries this run or pull request changes (`environment/component`): their date is `pendingLabel`. */
  pending?: ReadonlySet<string>;
  /** What a pending change shows instead of a date: `this run`, `this pull request`, or today's date in a file. */
  pendingLabel?: string;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const same = (a: LockEntry, b: LockEntry) => lockReference(a) === lockReference(b);

/** How an environment's entry stands to the one before it: `= devtest`, `patch behind devtest`, `minor ahead of devtest`. */
export function stepFrom(entry: LockEntry, previous: LockEntry, previousEnv: string): string {
  if (same(entry, previous)) return `= ${previousEnv}`;
  if (entry.tag === previous.tag) return `${entry.image === previous.image ? 'other digest than' : 'other repository than'} ${previousEnv}`;
  if (!parseVersion(entry.tag) || !parseVersion(previous.tag)) return `differs from ${previousEnv}`;
  return compareVersions(entry.tag, previous.tag) < 0 ? `${changeBump(entry, previous)} behind ${previousEnv}` : `${changeBump(previous, entry)} ahead of ${previousEnv}`;
}

const table = (header: string[], rows: string[][]) =>
  [`| ${header.join(' | ')} |`, `|${header.map(() => '---|').join('')}`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');

/** The parts of one entry's cell, the step from the environment before it aside. */
function entryParts(lock: Lock, env: string, component: string, options: InventoryOptions) {
  const entry = lock.environments.get(env)!.get(component)!;
  const changed = options.history?.get(env)?.get(component);
  return {
    image: `\`${cell(shortImage(lockReference(entry)))}\``,
    revision: entry.revision ? `\`${entry.revision.slice(0, 7)}\`` : '',
    changed: options.pending?.has(`${env}/${component}`) ? (options.pendingLabel ?? 'this run') : changed ? `${changed.orEarlier ? 'on or before ' : ''}${changed.date}` : '',
    hold: entry.hold ? cell(entry.hold) : '',
  };
}

/** The Markdown table: one row per component, one column per environment of the lock. */
export function inventoryTable(lock: Lock, options: InventoryOptions = {}): string {
  const environments = [...lock.environments.keys()];
  const components = [...new Set([...lock.environments.values()].flatMap((entries) => [...entries.keys()]))].sort();
  if (!components.length) return `_${lock.file} lists no component yet._`;
  const rows = components.map((component) => [
    cell(component),
    ...environments.map((env, index) => {
      const entry = lock.environments.get(env)!.get(component);
      if (!entry) return '';
      const parts = entryParts(lock, env, component, options);
      const previousEnv = environments.slice(0, index).reverse().find((e) => lock.environments.get(e)!.has(component));
      const step = previousEnv ? stepFrom(entry, lock.environments.get(previousEnv)!.get(component)!, previousEnv) : '';
      return [parts.image, parts.revision && `rev ${parts.revision}`, step, parts.changed, parts.hold && `**held**: ${parts.hold}`].filter(Boolean).join('<br>');
    }),
  ]);
  return table(['Component', ...environments.map(cell)], rows);
}

/** The inventory as a section of a run's summary. */
export function inventorySummary(lock: Lock, options: InventoryOptions = {}): string {
  return `#### What runs where (${lock.file})\n\n${inventoryTable(lock, options)}\n`;
}

/** INVENTORY.md: a table per environment (dates only), so it changes only where the lock does. */
export function inventoryFile(lock: Lock, options: InventoryOptions = {}): string {
  const sections = [...lock.environments].map(([env, entries]) => {
    const components = [...entries.keys()].sort();
    const rows = components.map((component) => {
      const parts = entryParts(lock, env, component, options);
      return [cell(component), parts.image, parts.revision, parts.changed, parts.hold];
    });
    return [`## ${cell(env)}`, '', rows.length ? table(['Component', 'Image', 'Revision', 'Changed', 'Hold'], rows) : '_No component yet._', ''];
  });
  return [
    '# What runs where',
    '',
    `Generated by UpdateGitOpsVersions from \`${lock.file}\` each time a run changes it: edit the lock, not this file.`,
    'Image: tag and digest. Revision: the app commit built. Changed: the day the entry last changed. Hold: why automated runs leave it alone.',
    '',
    ...sections.flat(),
  ].join('\n');
}
