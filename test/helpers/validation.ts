/** What a finding (or an entry of the `findings` output) is, without its wording: `environment rule component file:line` (`-` for no component). */
export const brief = (f: { environment: string; rule: string; component: string; file: string; line?: number | null }): string =>
  `${f.environment} ${f.rule} ${f.component || '-'} ${f.file}:${f.line ?? ''}`;

/**
 * The findings of test/fixtures/gitops/validation (allowedRegistries its registry, prod protected), one of each
 * kind a repository alone shows, in the order the task reports them (environment, file, line).
 */
export const VALIDATION_FINDINGS = [
  'broken render-failed - environments/broken/kustomization.yaml:5',
  'broken invalid-file - environments/broken/notes.yaml:3',
  'devtest image-mismatch collector environments/devtest/dashboard.yaml:12',
  'devtest unknown-component - environments/devtest/jobs.yaml:11',
  'devtest tag-mismatch heuristic environments/devtest/jobs.yaml:14',
  'devtest digest-mismatch collector environments/devtest/kustomization.yaml:14',
  'devtest registry-not-allowed - environments/devtest/tools.yaml:14',
  'prod mutable-tag heuristic environments/prod/kustomization.yaml:7',
  'prod digest-required collector environments/prod/kustomization.yaml:11',
  'prod mutable-tag heuristic versions.yaml:14',
  'prod digest-required collector versions.yaml:18',
];
