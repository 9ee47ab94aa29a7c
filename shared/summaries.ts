/**
 * The Markdown each task attaches to the run's summary tab, rendered from its flow's result.
 */
import type { BuildContainersResult } from './flows/build-containers';
import type { CreateEnvPRResult } from './flows/create-env-pr';
import type { TagComponentsResult, TagStatus } from './flows/tag-components';
import type { UpdateGitOpsResult } from './flows/update-gitops';
import type { ValidateGitOpsResult } from './flows/validate-gitops';
import { place } from './gitops/findings';
import { nameList, type SkippedManifest } from './cargo/problems';

/** A table cell: a `|` in the text would end the cell. */
const cell = (text: string) => text.replace(/\|/g, '\\|');
const code = (text: string) => `\`${cell(text)}\``;
const oneLine = (text: string) => cell(text.replace(/\s*\n\s*/g, ' '));

function table(header: string[], rows: string[][]): string[] {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)];
}

/** TagComponents: the commit, then one row per component. */
export function tagSummary(result: TagComponentsResult): string {
  const verb: Record<TagStatus, string> = result.dryRun
    ? { created: 'would create', moved: 'would move', exists: 'exists', skipped: 'skipped', failed: 'failed' }
    : { created: 'created', moved: 'moved', exists: 'exists', skipped: 'skipped', failed: 'failed' };
  const rows = result.components.map((c) => [cell(c.name), cell(c.version), c.versionSource, cell(c.path), code(c.tag), verb[c.status]]);
  return [
    `${result.dryRun ? '**Dry run**: nothing was tagged or pushed. ' : ''}Commit \`${result.commit.slice(0, 12)}\`.`,
    '',
    ...table(['Component', 'Version', 'Version from', 'Path', 'Tag', 'Status'], rows),
    '',
  ].join('\n') + skippedManifestsSummary(result.skippedManifests);
}

/** The Cargo.toml files discovery skipped (each warned about), at most `max` rows; empty when there are none. */
export function skippedManifestsSummary(skipped: SkippedManifest[] = [], max = 50): string {
  if (!skipped.length) return '';
  const rows = skipped.slice(0, max).map((s) => [code(`${s.file}${s.line ? `:${s.line}` : ''}`), oneLine(s.message), oneLine(nameList(s.packages))]);
  if (skipped.length > max) rows.push([`and ${skipped.length - max} more`, '', '']);
  return [
    '',
    `**Skipped Cargo manifests** (${skipped.length}): no selected component needs them, so the run went on without them.`,
    '',
    ...table(['Cargo.toml', 'Problem', 'Left out'], rows),
    '',
  ].join('\n');
}

/** BuildRustContainers: what was built (or planned), then one row per component with its image and digest. */
export function buildSummary(result: BuildContainersResult): string {
  const planned = Object.keys(result.matrix).length;
  const head =
    result.mode === 'plan'
      ? `Planned ${planned} build(s), skipped ${result.skipped}.`
      : result.dryRun
        ? `**Dry run**: nothing was built or pushed. Would build ${planned}, skipped ${result.skipped}.`
        : `Built ${result.built}, skipped ${result.skipped}${result.builder ? ` (with ${result.builder})` : ''}.`;
  const rows = result.outcomes.map((o) => [
    cell(o.component),
    cell(o.version),
    o.reference ? code(o.reference) : '',
    o.status,
    o.digest ? code(o.digest) : cell(o.note ?? ''),
  ]);
  return [head, '', ...table(['Component', 'Version', 'Image', 'Status', 'Digest'], rows), ''].join('\n') + skippedManifestsSummary(result.skippedManifests);
}

/**
 * UpdateGitOpsVersions: a table of the changes with full references and the files changed (also the file its
 * `summary` output names). CreateEnvPR renders its own, shorter table (pr/description.ts).
 */
export function gitopsSummary(result: UpdateGitOpsResult): string {
  const { environment, changes } = result;
  const title = `### ${environment}: ${changes.length ? `${changes.length} component(s) updated` : 'up to date'}${result.dryRun ? ' (dry run: nothing written)' : ''}`;
  const notes = [...result.warnings.map((w) => `- **Warning:** ${w}`), ...changes.flatMap((c) => (c.notes ?? []).map((n) => `- ${n}`))];
  const tail = notes.length ? ['', ...notes, ''] : [''];
  if (!changes.length) return [title, '', `${result.checked} component(s) checked; every one already runs the requested image.`, ...tail].join('\n');
  const rows = changes.map((c) => [cell(c.component), c.from ? code(c.from) : '(new)', code(c.to), c.bump, c.files.map(cell).join('<br>')]);
  return [title, '', ...table(['Component', 'From', 'To', 'Bump', 'Files'], rows), ...tail].join('\n');
}

/** CreateEnvPR: a link to the pull request opened or updated, or what a dry run would propose; its description follows. */
export function pullRequestSummary(result: CreateEnvPRResult): string {
  const head = result.pullRequestUrl
    ? `**[${result.created ? 'Opened' : 'Updated'} pull request ${result.pullRequestId}: ${result.title}](${result.pullRequestUrl})** ` +
      `(\`${result.sourceBranch}\` into \`${result.targetBranch}\`, commit \`${result.commitId?.slice(0, 12)}\`)`
    : `**Dry run**: nothing was committed or pushed. A real run commits to \`${result.sourceBranch}\` and opens or updates its pull request into \`${result.targetBranch}\`:\n\n**${result.title}**`;
  return `${head}\n\n${result.description}\n`;
}

/**
 * ValidateGitOps: one row per environment (components, references checked, how its overlays rendered, findings),
 * then every finding at its file and line (at most `max` rows), then what could not be checked.
 */
export function validationSummary(result: ValidateGitOpsResult, max = 200): string {
  const head = result.valid
    ? `**Valid**: ${result.environments.length} environment(s) of \`${cell(result.lockFile)}\`, no finding.`
    : `**${result.findings.length} finding(s)**: the pull request should not merge as it is.`;
  const target = result.target ? ` Version moves compared with \`${cell(result.target.branch)}\` (\`${result.target.commit.slice(0, 12)}\`).` : '';
  const rows = result.environments.map((e) => [cell(e.name), String(e.components), String(e.references), e.roots ? `${e.roots} (${e.render})` : 'none', e.findings ? `**${e.findings}**` : '0']);
  const findings = result.findings.slice(0, max).map((f) => [code(place(f)), cell(f.environment), cell(f.component), f.rule, oneLine(f.message)]);
  if (result.findings.length > max) findings.push([`and ${result.findings.length - max} more`, '', '', '', '']);
  const lines = [head + target, '', ...table(['Environment', 'Components', 'References checked', 'Overlays rendered', 'Findings'], rows), ''];
  if (findings.length) lines.push(...table(['Where', 'Environment', 'Component', 'Rule', 'Finding'], findings), '');
  if (result.warnings.length) lines.push(...result.warnings.map((w) => `- **Warning:** ${oneLine(w)}`), '');
  return lines.join('\n');
}
