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
import { inventorySummary } from './gitops/inventory';

/** A table cell: a `|` in the text would end the cell. */
const cell = (text: string) => text.replace(/\|/g, '\\|');
const code = (text: string) => `\`${cell(text)}\``;
const oneLine = (text: string) => cell(text.replace(/\s*\n\s*/g, ' '));

function table(header: string[], rows: string[][]): string[] {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)];
}

/** TagComponents: what was tagged (or would be) at which commit, then one row per component. */
export function tagSummary(result: TagComponentsResult): string {
  const verb: Record<TagStatus, string> = { created: 'created', planned: 'would create', moved: result.dryRun ? 'would move' : 'moved', exists: 'exists', skipped: 'skipped', failed: 'failed' };
  const rows = result.components.map((c) => [cell(c.name), cell(c.version), c.versionSource, cell(c.path), code(c.tag), verb[c.status]]);
  const commit = `\`${result.commit.slice(0, 12)}\``;
  return [
    result.dryRun ? `**${tagOutcome(result)}** at commit ${commit}; nothing was tagged or pushed.` : `Commit ${commit}.`,
    '',
    ...table(['Component', 'Version', 'Version from', 'Path', 'Tag', 'Status'], rows),
    '',
  ].join('\n') + skippedManifestsSummary(result.skippedManifests);
}

/**
 * TagComponents' counts: `1 created, 0 moved, 1 already there, 0 skipped`, or in a dry run (saying why, when the
 * run was made one) `Dry run: would create 1, move 0; 1 already there, 0 skipped`.
 */
export function tagOutcome(result: TagComponentsResult): string {
  const count = (status: TagStatus) => result.components.filter((c) => c.status === status).length;
  const rest = `${count('exists')} already there, ${count('skipped')} skipped`;
  if (!result.dryRun) return `${count('created')} created, ${count('moved')} moved, ${rest}`;
  return `Dry run${result.dryRunReason ? ` (${result.dryRunReason})` : ''}: would create ${count('planned')}, move ${count('moved')}; ${rest}`;
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
        ? `**Dry run: would build ${planned}, skipped ${result.skipped}**; nothing was built or pushed.`
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
  const updated = result.rollback ? `${changes.length} component(s) rolled back to ${code(result.rollback.revision)}` : `${changes.length} component(s) updated`;
  const would = result.rollback ? `roll back ${changes.length} component(s) to ${code(result.rollback.revision)}` : `update ${changes.length} component(s)`;
  const idle = result.released.length ? `${result.released.length} hold(s) released` : 'up to date';
  const outcome = !changes.length
    ? `${idle}${result.dryRun ? ' (dry run)' : ''}`
    : result.dryRun ? `Dry run: would ${would} (nothing written)` : updated;
  const title = `### ${environment}: ${outcome}`;
  const notes = [
    ...result.warnings.map((w) => `- **Warning:** ${oneLine(w)}`),
    ...changes.flatMap((c) => (c.notes ?? []).map((n) => `- ${n}`)),
    ...result.held.map((h) => `- **Held:** ${cell(h.component)} stays at ${code(h.image)} (${oneLine(h.hold)}), not moved to ${code(h.wanted)}: run with \`release: ${cell(h.component)}\` to move it.`),
    ...changes.flatMap((c) => (c.hold ? [`- **Hold set:** ${cell(c.component)}: ${oneLine(c.hold)}. Automated runs leave it alone until it is released.`] : [])),
    ...result.released.map((name) => `- **Released:** ${cell(name)} is no longer held.`),
  ];
  const tail = notes.length ? ['', ...notes, ''] : [''];
  const pending = new Set(changes.map((c) => `${environment}/${c.component}`));
  const inventory = [inventorySummary(result.lock, { history: result.history, pending, pendingLabel: result.dryRun ? 'would change in this run' : 'this run' })];
  if (!changes.length) {
    const checked = `${result.checked} component(s) checked; ${result.held.length ? 'every one not held' : 'every one'} already runs the requested image.`;
    return [title, '', checked, ...tail, ...inventory].join('\n');
  }
  const rows = changes.map((c) => [cell(c.component), c.from ? code(c.from) : '(new)', code(c.to), `${c.bump}${c.rollback ? ' (rollback)' : ''}`, c.files.map(cell).join('<br>')]);
  return [title, '', ...table(['Component', 'From', 'To', 'Bump', 'Files'], rows), ...tail, ...inventory].join('\n');
}

/** CreateEnvPR: a link to the pull request opened or updated, or what a dry run would propose; its description follows. */
export function pullRequestSummary(result: CreateEnvPRResult): string {
  const head = result.pullRequestUrl
    ? `**[${result.created ? 'Opened' : 'Updated'} pull request ${result.pullRequestId}: ${result.title}](${result.pullRequestUrl})** ` +
      `(\`${result.sourceBranch}\` into \`${result.targetBranch}\`, commit \`${result.commitId?.slice(0, 12)}\`)`
    : `**Dry run: would commit to \`${result.sourceBranch}\` and open or update its pull request into \`${result.targetBranch}\`**; nothing was committed or pushed:\n\n**${result.title}**`;
  const pending = new Set(result.changes.map((c) => `${result.environment}/${c.component}`));
  const inventory = result.lock ? `\n${inventorySummary(result.lock, { history: result.history, pending, pendingLabel: 'this pull request' })}` : '';
  return `${head}\n\n${result.description}\n${inventory}`;
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
  if (result.lock) lines.push(inventorySummary(result.lock, { history: result.history }));
  return lines.join('\n');
}
