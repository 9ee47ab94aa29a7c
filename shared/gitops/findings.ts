/**
 * What ValidateGitOps reports: one finding per problem, each at the file and line to fix, in the shape of its
 * `findings` output (`{environment, component, file, line, rule, message}`).
 */

/** The rules a finding can break. */
export const RULES = {
  /** A reference of a component names another tag than the component's lock entry. */
  'tag-mismatch': 'the reference and the lock name different tags',
  /** A Flux `:name` marker names another repository than the component's lock entry. */
  'image-mismatch': 'the reference and the lock name different repositories',
  /** A reference pins another digest than the lock entry (or one pins and the other does not). */
  'digest-mismatch': 'the reference and the lock pin different digests',
  /** An image in one of the lock's registries that no lock entry of the environment names. */
  'unknown-component': 'the lock does not know this image',
  /** An overlay that does not render (kubectl kustomize or the task's resolver refuses it). */
  'render-failed': 'the overlay does not render',
  /** A lock or manifest file that cannot be read (YAML, encoding, size), or an environment without its folder. */
  'invalid-file': 'a file cannot be read',
  /** An image outside allowedRegistries. */
  'registry-not-allowed': 'the image is outside allowedRegistries',
  /** `latest`, no tag, or a tag without a version, in a protected environment. */
  'mutable-tag': 'a mutable tag in a protected environment',
  /** An image without a digest in a protected environment. */
  'digest-required': 'no digest in a protected environment',
  /** The pull request moves a component to an older version than the target branch runs. */
  downgrade: 'an older version than the target branch',
  /** The pull request moves a component by a larger SemVer step than maxBump. */
  'max-bump': 'a larger step than maxBump',
  /** The registry has no image of the lock entry's digest (or tag). */
  'not-in-registry': 'the image is not in the registry',
} as const;

export type Rule = keyof typeof RULES;

export interface Finding {
  environment: string;
  /** The component of the lock the finding is about; '' for an image that is none (third-party, unknown). */
  component: string;
  /** Relative to the GitOps repository, with '/'. */
  file: string;
  /** 1-based; absent when no line is known (a folder, a kubectl failure without a location). */
  line?: number;
  rule: Rule;
  message: string;
}

/** Findings in the order they were found, each (environment, rule, file, line, component) once: the render and the file scan often see the same value. */
export class Findings {
  private readonly seen = new Set<string>();
  readonly list: Finding[] = [];

  add(finding: Finding): void {
    const key = [finding.environment, finding.rule, finding.file, finding.line ?? '', finding.component].join('\n');
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.list.push(finding);
  }

  /** By environment, file and line: the order of the log and the summary. */
  sorted(): Finding[] {
    const by = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    return [...this.list].sort((a, b) => by(a.environment, b.environment) || by(a.file, b.file) || (a.line ?? 0) - (b.line ?? 0) || by(a.rule, b.rule));
  }
}

/** `file:line` (or `file`) as messages and editors name a place. */
export const place = (finding: Pick<Finding, 'file' | 'line'>): string => (finding.line ? `${finding.file}:${finding.line}` : finding.file);
