import { lockHistory, type LockHistory } from '../gitops/lock-history';
import type { NetworkSettings } from '../net/network';
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Log } from '../agent';
import { selectByName } from '../cargo/select';
import { UserError } from '../errors';
import { insideRoot } from '../files';
import type { RemoteSettings } from '../git/remote';
import { formatImageRef, repositoryLocation } from '../images/reference';
import { type Lock, readLock } from '../lock/lockfile';
import { findOnPath } from '../process';
import { bestEffort } from '../repos/rest-retry';
import type { RetryOptions } from '../retry';
import { fillTemplate } from '../template';
import { parseHelmValues } from '../updaters/helm-values';
import { parseDocuments } from '../updaters/yaml-text';
import { wildcard } from '../wildcard';
import { checkEnvironment } from '../gitops/consistency';
import { Environment, type EnvironmentFile } from '../gitops/environment';
import { type Finding, Findings } from '../gitops/findings';
import { listManifests, yamlText } from '../gitops/manifests';
import { type MaxBump, registryAllowed } from '../gitops/policies';
import { azureReposRepository, markMerged, type RepositoryRef } from '../gitops/promotion-marks';
import { type RenderMode, renderRoots, type RootImages } from '../gitops/renders';
import { mapLimit, registryClientsFor, type RegistryOptions } from '../gitops/sources';
import { checkVersionMoves, lockOnBranch } from '../gitops/target-branch';

export type { RenderMode } from '../gitops/renders';
export type { MaxBump } from '../gitops/policies';

/**
 * ValidateGitOps' core, for the GitOps repository's pull request validation: every environment of the lock (or
 * those selected) is checked, changing nothing in the repository:
 * - each lock entry agrees with every reference of its component in the environment's files and with what each
 *   root kustomization renders (tag and digest); an image in the lock's registries that no entry names is reported;
 * - every root kustomization renders (kubectl kustomize, or this task's resolver);
 * - allowedRegistries; in protected environments no mutable tags and digests everywhere; against the pull
 *   request's target branch, no downgrade (unless the entry is on hold) and no step over maxBump; optionally each
 *   lock entry's digest exists in its registry.
 * Each problem is a finding at its file and line; then the pull request's status is posted (on a PR build), or
 * after the merge the promotion marks of the lock's app commits are turned to succeeded.
 */

export interface ValidateGitOpsOptions extends RegistryOptions {
  gitopsPath: string;
  /** Names or globs (`!` excludes) of the lock's environments; empty: every one. */
  environments?: string[];
  /** Relative to gitopsPath; default versions.yaml. */
  lockFile?: string;
  /** `{environment}` filled in; default environments/{environment}. */
  manifestsPath?: string;
  render?: RenderMode;
  /** The kubectl program looked up on PATH (default `kubectl`). */
  kubectl?: string;
  /** Registries (hosts, host/prefix, `*` globs) every image must come from; empty allows any. */
  allowedRegistries?: string[];
  /** Names or globs of environments where tags must be versions and digests are required. */
  protectedEnvironments?: string[];
  /** Repositories (globs) that are not components: never reported as unknown. */
  ignoreImages?: string[];
  /** helmValues lines, as UpdateGitOpsVersions takes them: which Helm values keys hold a component's image. */
  helmValues?: string[];
  maxBump?: MaxBump;
  allowDowngrade?: boolean;
  /** The branch the pull request merges into (`refs/heads/main` or `main`): no downgrade, maxBump against its lock. */
  targetBranch?: string;
  /** How git fetches the target branch when the checkout lacks it (the job's token, the agent's proxy and CA). */
  gitSettings?: RemoteSettings;
  /** The agent's proxy and CA file, for the registry and the statuses. */
  network?: NetworkSettings;
  /** Check that each lock entry's digest (or tag) is in its registry. */
  checkRegistry?: boolean;
  /** Where statuses go; none posted without it. */
  status?: StatusOptions;
}

export interface StatusOptions {
  collectionUrl: string;
  token: string;
  /** The GitOps repository's project (System.TeamProject). */
  project: string;
  /** The GitOps repository (Build.Repository.ID). */
  repository: string;
  /** On a pull request build: the pull request whose status is posted. */
  pullRequestId?: number;
  /** The run's page, linked from the status. */
  runUrl?: string;
  /** After the merge (not a PR build): the app repositories whose promotion marks are turned to succeeded. */
  appRepositories?: string[];
  /** The branch and commit validated (Build.SourceBranch, Build.SourceVersion), for the marks' text. */
  branch?: string;
  commit?: string;
  retry?: RetryOptions;
}

export interface EnvironmentResult {
  name: string;
  components: number;
  /** References and rendered images checked. */
  references: number;
  /** Root kustomizations, and how they were rendered. */
  roots: number;
  render: 'kubectl' | 'resolver' | 'none';
  findings: number;
}

export interface ValidateGitOpsResult {
  valid: boolean;
  findings: Finding[];
  environments: EnvironmentResult[];
  /** What could not be checked, and lock entries nothing references. */
  warnings: string[];
  lockFile: string;
  /** The lock as read (for the inventory); undefined when it does not parse. */
  lock?: Lock;
  /** When each lock entry last changed (git history of the lock), for the inventory. */
  history?: LockHistory;
  /** The target branch compared with, and its commit. */
  target?: { branch: string; commit: string };
  /** Whether the pull request's status landed (undefined: none was posted). */
  statusPosted?: boolean;
  /** Promotion marks turned to succeeded. */
  marksTurned?: number;
}

export async function validateGitOps(options: ValidateGitOpsOptions, log: Log): Promise<ValidateGitOpsResult> {
  const root = path.resolve(options.gitopsPath);
  if (!(await fs.stat(root).catch(() => undefined))?.isDirectory()) {
    throw new UserError(`gitopsPath ${options.gitopsPath} is not a directory: check out the GitOps repository first.`);
  }
  const realRoot = await fs.realpath(root);
  const maxBump = options.maxBump ?? 'major';
  if (!['major', 'minor', 'patch'].includes(maxBump)) throw new UserError(`maxBump '${maxBump}' is not known: use major, minor or patch.`);
  const mode = options.render ?? 'auto';
  if (!['auto', 'always', 'never'].includes(mode)) throw new UserError(`render '${mode}' is not known: use auto, always or never.`);
  const kubectl = mode === 'never' ? undefined : await findOnPath(options.kubectl ?? 'kubectl');
  if (mode === 'always' && !kubectl) throw new UserError(`render: always needs kubectl on the agent, and '${options.kubectl ?? 'kubectl'}' is not on PATH: install it, or use render: auto to render with this task's resolver.`);
  const findings = new Findings();
  const warnings: string[] = [];
  const warn = (message: string, where?: { file: string; line?: number }) => {
    warnings.push(message);
    log.warn(message, where);
  };

  // 1. The lock: a lock that does not parse is the one finding.
  const lockName = options.lockFile || 'versions.yaml';
  const lockPath = await insideRoot(root, lockName);
  const lockFile = path.relative(realRoot, lockPath).split(path.sep).join('/') || lockName;
  const bytes = await fs.readFile(lockPath).catch(() => undefined);
  if (!bytes) throw new UserError(`${lockFile} does not exist in ${options.gitopsPath}: ValidateGitOps checks the environments of the lock; set lockFile, or gitopsPath to the GitOps repository.`, { file: lockFile });
  let lock: Lock;
  try {
    lock = readLock(yamlText(bytes, lockFile), lockFile);
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    findings.add({ environment: '', component: '', file: error.where?.file ?? lockFile, line: error.where?.line, rule: 'invalid-file', message: error.message });
    return finish({ valid: false, findings: findings.sorted(), environments: [], warnings, lockFile }, options, log);
  }
  const environments = selectByName([...lock.environments.keys()].map((name) => ({ name })), options.environments ?? [], 'environment', 'environments').map((e) => e.name);
  const lockRegistries = new Set([...lock.environments.values()].flatMap((entries) => [...entries.values()].map((e) => repositoryLocation(e.image).registry)));
  const ignore = (options.ignoreImages ?? []).map(wildcard);
  const protectedEnvironments = (options.protectedEnvironments ?? []).map(wildcard);
  const mappings = parseHelmValues(options.helmValues ?? []);
  const allowed = options.allowedRegistries?.length ? { test: registryAllowed(options.allowedRegistries), text: options.allowedRegistries.join(', ') } : undefined;

  // 2. Each environment: its files, its renders, the lock against both, the image policies.
  const results: EnvironmentResult[] = [];
  for (const environment of environments) {
    const before = findings.list.length;
    const entries = lock.environments.get(environment)!;
    const { files, roots } = await readEnvironment(realRoot, lockPath, environment, options.manifestsPath, kubectl, lock, findings);
    for (const skipped of roots.filter((r) => r.unsupported)) warn(`${skipped.unsupported} Its images are not checked.`, { file: skipped.dir });
    const report = checkEnvironment(
      {
        environment,
        lockFile,
        entries,
        files,
        roots,
        lockRegistries,
        ignored: (repository) => ignore.some((matches) => matches(repository)),
        allowed,
        protected: protectedEnvironments.some((matches) => matches(environment)),
        mappings,
      },
      findings,
    );
    for (const component of report.unreferenced) {
      warn(`${component}: nothing in the manifests of '${environment}' references ${entries.get(component)!.image}; only ${lockFile} records it.`, { file: lockFile, line: entries.get(component)!.line });
    }
    const by = new Set(roots.filter((r) => !r.failed && !r.unsupported).map((r) => r.by));
    results.push({ name: environment, components: entries.size, references: report.references, roots: roots.length, render: by.size ? [...by][0] : 'none', findings: findings.list.length - before });
  }

  // 3. Versions against the pull request's target branch.
  let target: ValidateGitOpsResult['target'];
  if (options.targetBranch) {
    const branch = options.targetBranch.replace(/^refs\/heads\//, '');
    const onBranch = await lockOnBranch(root, lockName, branch, options.gitSettings ?? {}, log);
    target = { branch, commit: onBranch.commit };
    if (onBranch.text === undefined) log.info(`${branch} has no ${lockFile} yet: no version moves to check.`);
    else {
      try {
        const then = readLock(onBranch.text, `${lockFile} on ${branch}`);
        checkVersionMoves(lock, then, environments, { maxBump, allowDowngrade: options.allowDowngrade ?? false }, branch, findings).forEach((w) => warn(w));
      } catch (error) {
        if (!(error instanceof UserError)) throw error;
        warn(`${lockFile} on ${branch} cannot be read (${error.message}), so no version move is checked against it.`);
      }
    }
  }

  // 4. The lock's images in their registries.
  if (options.checkRegistry) await checkRegistry(lock, environments, options, findings);

  for (const result of results) result.findings = findings.list.filter((f) => f.environment === result.name).length;
  const sorted = findings.sorted();
  const history = await lockHistory(realRoot, lockFile, lock);
  return finish({ valid: sorted.length === 0, findings: sorted, environments: results, warnings, lockFile, lock, history, target }, options, log);
}

/** The environment's files (parsed; a file that does not parse is a finding) and its roots' renders (one that does not render is a finding). */
async function readEnvironment(
  realRoot: string,
  lockPath: string,
  environment: string,
  manifestsPath: string | undefined,
  kubectl: string | undefined,
  lock: Lock,
  findings: Findings,
): Promise<{ files: EnvironmentFile[]; roots: RootImages[] }> {
  const invalid = (error: unknown, file: string) => {
    if (!(error instanceof UserError)) throw error;
    findings.add({ environment, component: '', file: error.where?.file ?? file, line: error.where?.line, rule: 'invalid-file', message: error.message });
  };
  const manifestsName = fillTemplate('manifestsPath', manifestsPath || 'environments/{environment}', { environment });
  let listed: Awaited<ReturnType<typeof listManifests>>;
  try {
    const dir = await insideRoot(realRoot, manifestsName);
    if (!(await fs.stat(dir).catch(() => undefined))?.isDirectory()) {
      throw new UserError(`'${environment}' is in ${lock.file}, but its manifests folder ${manifestsName} does not exist: add the environment's overlay, set manifestsPath, or remove the environment from the lock.`, { file: lock.file, line: lock.environmentLines.get(environment) });
    }
    listed = await listManifests(realRoot, dir);
  } catch (error) {
    invalid(error, manifestsName);
    return { files: [], roots: [] };
  }
  const files: EnvironmentFile[] = [];
  // Synchronous reads: for thousands of small files they cost a fraction of fs.promises.readFile.
  for (const manifest of listed.filter((m) => m.real !== lockPath)) {
    try {
      const text = yamlText(readFileSync(manifest.real), manifest.relative);
      files.push({ real: manifest.real, file: manifest.relative, text, documents: parseDocuments(text, manifest.relative, 'failsafe') });
    } catch (error) {
      invalid(error, manifest.relative);
    }
  }
  let env: Environment;
  try {
    env = new Environment(realRoot, files, (real, relative) => yamlText(readFileSync(real), relative));
  } catch (error) {
    invalid(error, manifestsName);
    return { files, roots: [] };
  }
  const reported = new Set(findings.list.filter((f) => f.environment === environment).map((f) => f.file));
  const roots = await renderRoots(env, kubectl);
  for (const root of roots) {
    // a file already reported as unreadable is why its overlay does not render: one finding is enough
    if (root.failed && !reported.has(root.failed.where.file)) {
      findings.add({ environment, component: '', file: root.failed.where.file, line: root.failed.where.line, rule: 'render-failed', message: `${root.dir} does not render: ${root.failed.message}` });
    }
  }
  return { files: files.filter((f) => !env.unusedComponents.has(f.real)), roots };
}

/** Each lock entry's digest (else its tag) asked of its registry, once per image. */
async function checkRegistry(lock: Lock, environments: readonly string[], options: ValidateGitOpsOptions, findings: Findings): Promise<void> {
  const uses = new Map<string, Array<{ environment: string; component: string; line: number }>>();
  for (const environment of environments) {
    for (const [component, entry] of lock.environments.get(environment)!) {
      const key = `${entry.image}|${entry.digest ?? entry.tag}`;
      uses.set(key, [...(uses.get(key) ?? []), { environment, component, line: entry.line }]);
    }
  }
  if (!uses.size) return;
  const client = await registryClientsFor(options, [...uses.keys()].map((key) => key.split('|')[0]));
  await mapLimit([...uses], 8, async ([key, users]) => {
    const [image, reference] = key.split('|');
    const { registry, path: repository } = repositoryLocation(image);
    if (await client(registry).digest(repository, reference)) return;
    const shown = formatImageRef(reference.startsWith('sha256:') ? { name: image, digest: reference } : { name: image, tag: reference });
    for (const use of users) {
      findings.add({ ...use, file: lock.file, rule: 'not-in-registry', message: `${use.component}: ${shown} is not in the registry ${registry}: push it, or fix the lock's tag and digest.` });
    }
  });
}

/** Posts the pull request's status (a PR build) or turns the promotion marks (after the merge), then returns the result. */
async function finish(result: ValidateGitOpsResult, options: ValidateGitOpsOptions, log: Log): Promise<ValidateGitOpsResult> {
  const status = options.status;
  if (!status) return result;
  // Loaded only to post: a run without statuses skips loading the REST client.
  const { StatusClient } = await import('../repos/statuses');
  const client = new StatusClient({ collectionUrl: status.collectionUrl, token: status.token, log, retry: status.retry, network: options.network });
  if (status.pullRequestId !== undefined) {
    const count = result.findings.length;
    const names = [...new Set(result.findings.map((f) => f.environment || result.lockFile))];
    const description = result.valid ? `${result.environments.length} environment(s) valid` : `${count} finding(s) in ${names.join(', ')}`;
    result.statusPosted = await bestEffort(log, `post the status 'validate-gitops' on pull request ${status.pullRequestId}`, 'Contribute to pull requests', `the GitOps repository`, () =>
      client.onPullRequest(status.project, status.repository, status.pullRequestId!, { name: 'validate-gitops', state: result.valid ? 'succeeded' : 'failed', description, targetUrl: status.runUrl }),
    );
    if (result.statusPosted) log.info(`Posted the status validate-gitops: ${result.valid ? 'succeeded' : 'failed'} (${description}) on pull request ${status.pullRequestId}.`);
    return result;
  }
  if (!status.appRepositories?.length || !result.lock) return result;
  if (!result.valid) {
    log.warn(`The promotion marks stay pending: the validation found ${result.findings.length} problem(s).`);
    return result;
  }
  const revisions = result.environments.flatMap(({ name }) =>
    [...result.lock!.environments.get(name)!.values()].flatMap(({ revision }) => (revision ? [{ environment: name, revision }] : [])),
  );
  const repositories = status.appRepositories.map((r) => appRepository(r, status));
  result.marksTurned = await markMerged(client, revisions, repositories, { branch: (status.branch ?? '').replace(/^refs\/heads\//, '') || 'the target branch', commit: status.commit ?? '', url: status.runUrl }, log);
  log.info(`${result.marksTurned} promotion mark(s) turned to succeeded (${revisions.length} app commit(s) in the lock).`);
  return result;
}

/** An appRepositories entry: `project/repository`, a repository of the GitOps repository's project, or a clone URL. */
function appRepository(text: string, status: StatusOptions): RepositoryRef {
  const fromUrl = azureReposRepository(text);
  if (fromUrl) return fromUrl;
  const slash = text.indexOf('/');
  return { collectionUrl: status.collectionUrl, project: slash > 0 ? text.slice(0, slash) : status.project, repository: slash > 0 ? text.slice(slash + 1) : text };
}
