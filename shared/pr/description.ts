import { UserError } from '../errors';
import { fillTemplate } from '../template';
import { type EnvironmentHolds, shortImage, type EnvChange } from './changes';

/** Azure Repos refuses a pull request description longer than this. */
export const MAX_DESCRIPTION = 4000;

export const DEFAULT_TITLE = 'chore({environment}): update {count} component(s)';
/** The default title when every change is a rollback. */
export const ROLLBACK_TITLE = 'chore({environment}): roll back {count} component(s)';
/** The default title when the pull request only releases holds: `{count}` is the holds released. */
export const RELEASE_TITLE = 'chore({environment}): release {count} hold(s)';

export interface DescriptionContext {
  environment: string;
  targetBranch: string;
  changes: EnvChange[];
  /** The environment's holds after the pull request, and those it releases. */
  holds?: EnvironmentHolds;
}

const allRollbacks = (changes: EnvChange[]) => changes.length > 0 && changes.every((c) => c.rollback);

/** Holds released by a pull request that moves no image: a `release` run for components at their current images. */
const releasedOnly = (context: DescriptionContext) => (context.changes.length ? 0 : (context.holds?.released.length ?? 0));

/**
 * The title from its template: `{environment}`, `{count}`; anything else in braces is a UserError. The default
 * says "roll back" for a rollback, and "release" for a pull request that only releases holds.
 */
export function renderTitle(template: string, context: DescriptionContext): string {
  const released = releasedOnly(context);
  const byDefault = (template || DEFAULT_TITLE) === DEFAULT_TITLE;
  const chosen = !byDefault ? template : released ? RELEASE_TITLE : allRollbacks(context.changes) ? ROLLBACK_TITLE : DEFAULT_TITLE;
  const title = fillTemplate('title', chosen, { environment: context.environment, count: String(released || context.changes.length) }).trim();
  if (!title) throw new UserError(`Input 'title' is empty after filling its placeholders: give the pull request a title.`);
  if (title.length > 400) throw new UserError(`Input 'title' is ${title.length} characters long: Azure Repos accepts at most 400.`);
  return title;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

function buildCell(change: EnvChange): string {
  const build = change.build;
  if (!build || (!build.number && !build.id)) return '';
  const label = cell(build.number ?? build.id ?? '');
  return build.url ? `[${label}](${build.url})` : label;
}

/** One table row per change: component, from, to, bump and the producing build. */
export function tableRows(changes: EnvChange[]): string[] {
  return changes.map(
    (c) => `| ${cell(c.component)} | ${cell(shortImage(c.from)) || '(new)'} | ${cell(shortImage(c.to))} | ${cell(c.bump ?? '')}${c.rollback ? ' (rollback)' : ''} | ${buildCell(c)} |`,
  );
}

/**
 * The lines on holds: each held component of the environment (left alone by automated runs), and each hold
 * released; at most `budget` characters, then a line saying how many more.
 */
export function holdLines(holds: EnvironmentHolds | undefined, budget = 1500): string {
  if (!holds) return '';
  const lines = [
    ...holds.held.map((h) => `- **Held**: ${cell(h.component)} at ${cell(shortImage(h.image))} (${cell(h.hold)}): automated runs leave it alone until a run with \`release\` or an edit of the lock removes the hold.`),
    ...holds.released.map((r) => `- **Released**: ${cell(r.component)} is no longer held (was: ${cell(r.hold)}).`),
  ];
  const kept: string[] = [];
  let length = 0;
  for (const line of lines) {
    if (length + line.length + 1 > budget) break;
    kept.push(line);
    length += line.length + 1;
  }
  if (kept.length < lines.length) kept.push(`- … and ${lines.length - kept.length} more hold line(s): see the lock.`);
  return kept.join('\n');
}

/**
 * The default description: what this pull request promotes, as a table, cut below the service's
 * 4,000 characters with a note naming how many rows were left out.
 */
export function renderDescription(context: DescriptionContext, template = ''): string {
  const holds = holdLines(context.holds);
  if (template) {
    const table = renderTable(context.changes, MAX_DESCRIPTION - template.length - holds.length);
    const values = { environment: context.environment, count: String(context.changes.length), table, targetBranch: context.targetBranch, holds };
    const text = fillTemplate('description', template, values, { keepUnknown: true });
    if (text.length > MAX_DESCRIPTION)
      throw new UserError(`Input 'description' is ${text.length} characters long once filled: Azure Repos accepts at most ${MAX_DESCRIPTION}. Shorten it, or leave it empty for the default table.`);
    return text;
  }
  const count = context.changes.length;
  const rollbacks = context.changes.filter((c) => c.rollback).length;
  const released = releasedOnly(context);
  const foot = `\n\n_Opened and kept up to date by CreateEnvPR: later runs for ${context.environment} update this pull request._`;
  if (released) {
    const head = `Releases the hold on ${released} component(s) of **${context.environment}**, moving no image: once this pull request is merged into \`${context.targetBranch}\`, automated runs move them again.`;
    return `${head}\n\n${holds}${foot}`;
  }
  const head = rollbacks
    ? `**Rollback**: sets ${rollbacks} component(s) of **${context.environment}** back to an earlier version${rollbacks < count ? `, and promotes ${count - rollbacks} more` : ''}. Merging this pull request into \`${context.targetBranch}\` is the rollback.\n\n`
    : `Promotes ${count} component(s) to **${context.environment}**. Merging this pull request into \`${context.targetBranch}\` is the promotion.\n\n`;
  const middle = holds ? `\n\n${holds}` : '';
  return head + renderTable(context.changes, MAX_DESCRIPTION - head.length - middle.length - foot.length) + middle + foot;
}

/** The Markdown table of `changes` in at most `budget` characters, cut with a note when needed. */
export function renderTable(changes: EnvChange[], budget: number): string {
  const header = ['| Component | From | To | Bump | Build |', '|---|---|---|---|---|'];
  const rows = tableRows(changes);
  const note = (left: number) => `\n\n… and ${left} more (cut to the service's limit of ${MAX_DESCRIPTION.toLocaleString('en-US')} characters)`;
  const full = [...header, ...rows].join('\n');
  if (full.length <= budget) return full;
  const lines = [...header];
  let length = lines.join('\n').length;
  let kept = 0;
  for (const row of rows) {
    // Leave room for the note with the widest count it may need.
    if (length + 1 + row.length + note(rows.length).length > budget) break;
    lines.push(row);
    length += 1 + row.length;
    kept++;
  }
  return lines.join('\n') + note(rows.length - kept);
}
