import { UserError } from '../errors';
import { fillTemplate } from '../template';
import { shortImage, type EnvChange } from './changes';

/** Azure Repos refuses a pull request description longer than this. */
export const MAX_DESCRIPTION = 4000;

export const DEFAULT_TITLE = 'chore({environment}): update {count} component(s)';

export interface DescriptionContext {
  environment: string;
  targetBranch: string;
  changes: EnvChange[];
}

/** The title from its template: `{environment}`, `{count}`; anything else in braces is a UserError. */
export function renderTitle(template: string, context: DescriptionContext): string {
  const title = fillTemplate('title', template || DEFAULT_TITLE, { environment: context.environment, count: String(context.changes.length) }).trim();
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
    (c) => `| ${cell(c.component)} | ${cell(shortImage(c.from)) || '(new)'} | ${cell(shortImage(c.to))} | ${cell(c.bump ?? '')} | ${buildCell(c)} |`,
  );
}

/**
 * The default description: what this pull request promotes, as a table, cut below the service's
 * 4,000 characters with a note naming how many rows were left out.
 */
export function renderDescription(context: DescriptionContext, template = ''): string {
  if (template) {
    const table = renderTable(context.changes, MAX_DESCRIPTION - template.length);
    const values = { environment: context.environment, count: String(context.changes.length), table, targetBranch: context.targetBranch };
    const text = fillTemplate('description', template, values, { keepUnknown: true });
    if (text.length > MAX_DESCRIPTION)
      throw new UserError(`Input 'description' is ${text.length} characters long once filled: Azure Repos accepts at most ${MAX_DESCRIPTION}. Shorten it, or leave it empty for the default table.`);
    return text;
  }
  const head = `Promotes ${context.changes.length} component(s) to **${context.environment}**. Merging this pull request into \`${context.targetBranch}\` is the promotion.\n\n`;
  const foot = `\n\n_Opened and kept up to date by CreateEnvPR: later runs for ${context.environment} update this pull request._`;
  return head + renderTable(context.changes, MAX_DESCRIPTION - head.length - foot.length) + foot;
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
