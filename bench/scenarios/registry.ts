import { readdirSync, readFileSync } from 'node:fs';
import type { Log } from '../../shared/agent';
import { fromRegistry, mapLimit } from '../../shared/gitops/sources';
import type { LockImage } from '../../shared/lock/lockfile';
import { RegistryClient, type RegistryCredentials } from '../../shared/registry/client';
import { registryAccess } from '../../shared/registry/credentials';
import { REGISTRY_TOOLS, TestRegistry, TOKEN_REGISTRY_TOOLS } from '../../stand-ins/registry';
import { CONNECTIONS, jobContext, memoryEndpoints, startAzureAcr } from '../../test/helpers/azure-acr';
import { MemoryAgent } from '../../test/helpers/memory-agent';
import { machineLoad, median, requireTools, round, timed } from '../measure';
import type { Figure } from '../run';

const COMPONENTS = 200;
/** Pushed to each repository; the newest stable release is v1.10.0 (the SemVer order, not the text order). */
const TAGS = ['v1.9.0', 'v1.10.0', 'v1.10.1-rc.5', 'latest'];
const NEWEST = 'v1.10.0';
/** UpdateGitOpsVersions' default tagFilter and registry concurrency. */
const TAG_FILTER = /^v?\d+\.\d+\.\d+$/;
const CONCURRENCY = 8;
const RUNS = 3;
const GOAL_MS = 1000;
const quiet: Log = { debug: () => undefined, info: () => undefined, warn: () => undefined, setSecret: () => undefined };

/** CPU time (user + system) used so far by the docker-registry processes this process started, from /proc. */
function registryCpuMs(): number {
  const tick = 10; // USER_HZ is 100 on Linux
  let total = 0;
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === process.pid && stat.includes('(docker-registry)')) total += (Number(fields[11]) + Number(fields[12])) * tick;
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
}

/**
 * One image per tag of TAGS in `repository`: the layer and config blobs are uploaded once and each
 * tag's manifest differs by an annotation, so every tag has its own digest (the registry's, returned).
 */
async function pushTags(registry: TestRegistry, repository: string): Promise<Map<string, string>> {
  const layer = Buffer.from(repository);
  const layerDigest = await registry.putBlob(repository, layer);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layerDigest] } }));
  const configDigest = await registry.putBlob(repository, config);
  const digests = new Map<string, string>();
  for (const tag of TAGS) {
    const digest = await registry.putManifest(repository, tag, {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length }],
      annotations: { 'org.opencontainers.image.version': tag },
    });
    digests.set(tag, digest);
  }
  return digests;
}

/** Newest stable tag and its digest for each component through UpdateGitOpsVersions' registry source (a fresh client: no cached tokens). */
async function resolve(host: string, credentials: RegistryCredentials, repositories: string[]) {
  let requests = 0;
  let challenged = 0;
  const client = new RegistryClient(host, credentials, async (input, init) => {
    requests++;
    const response = await fetch(input, init);
    if (response.status === 401) challenged++;
    return response;
  });
  const components = repositories.map((repository): [string, LockImage] => [repository, { image: `${host}/${repository}`, tag: 'v1.9.0' }]);
  const desired = await fromRegistry(components, TAG_FILTER, () => client, true, CONCURRENCY, quiet);
  const found = repositories.map((repository) => ({ repository, tag: desired.get(repository)?.tag, digest: desired.get(repository)?.digest }));
  return { found, requests, challenged };
}

/** How a measured registry is signed in to: once per run, as a task run signs in once (nothing for htpasswd). */
type SignIn = () => Promise<RegistryCredentials>;

/**
 * The median over RUNS of signing in and resolving every component of a registry holding COMPONENTS
 * repositories (pushed here), after a warm-up; checks every answer; counts requests and CPU.
 */
async function measure(registry: TestRegistry, signIn: SignIn) {
  const repositories = Array.from({ length: COMPONENTS }, (_, i) => `edge/component-${i}`);
  const expected = new Map<string, string>();
  await mapLimit(repositories, 16, async (repository) => {
    for (const [tag, digest] of await pushTags(registry, repository)) if (tag === NEWEST) expected.set(repository, digest);
  });
  await resolve(registry.host, await signIn(), repositories.slice(0, 10)); // warm up the registry and this process
  const times: number[] = [];
  const signIns: number[] = [];
  let requests = 0;
  let challenged = 0;
  const cpu = { registry: 0, here: 0 };
  for (let i = 0; i < RUNS; i++) {
    const before = { registry: registryCpuMs(), here: process.cpuUsage() };
    const { ms, value } = await timed(async () => {
      const signedIn = await timed(signIn);
      signIns.push(signedIn.ms);
      return resolve(registry.host, signedIn.value, repositories);
    });
    const here = process.cpuUsage(before.here);
    cpu.registry += (registryCpuMs() - before.registry) / RUNS;
    cpu.here += (here.user + here.system) / 1000 / RUNS;
    challenged = value.challenged;
    for (const { repository, tag, digest } of value.found) {
      if (tag !== NEWEST || digest !== expected.get(repository)) throw new Error(`${repository}: resolved ${tag}@${digest}, expected ${NEWEST}@${expected.get(repository)}`);
    }
    times.push(ms);
    requests = value.requests;
  }
  const ms = median(times);
  const common =
    `UpdateGitOpsVersions' fromRegistry (listTags, newest by tagFilter, digest), ${CONCURRENCY} at a time, median of ${RUNS} runs; ` +
    `${requests} HTTP requests to the registry and its token service (${challenged} of them answered 401), ${round(ms / (requests / CONCURRENCY))} ms each at ${CONCURRENCY} in flight`;
  return { ms, requests, cpu, common, signIn: median(signIns) };
}

/**
 * Registry resolution for 200 components on loopback: a real registry (docker-registry) holding 200
 * repositories of a few tags each; UpdateGitOpsVersions' registry source lists the tags of each, picks the
 * newest matching the default tagFilter and reads its digest, 8 at a time, as the task does (its default
 * concurrency). A fresh client per run (no cached tokens). Twice: with htpasswd basic auth, and in token-auth
 * mode as an Azure Container Registry through an Azure Resource Manager connection (workload identity
 * federation through stand-ins/azure-login.ts: the sign-in, then a scoped token per repository by the
 * refresh-token grant, which the registry verifies on every request).
 */
export async function run(): Promise<Figure[]> {
  await requireTools(...REGISTRY_TOOLS, ...TOKEN_REGISTRY_TOOLS);
  const figures: Figure[] = [];
  const registry = await TestRegistry.start();
  try {
    const { ms, requests, cpu, common } = await measure(registry, async () => ({ username: registry.username, password: registry.password }));
    const note =
      `${common} (the client learns per repository scope that the registry wants Basic); CPU-bound: per run the registry used ${round(cpu.registry)} ms CPU ` +
      `(${(cpu.registry / requests).toFixed(1)} ms a request; it checks the bcrypt htpasswd entry on each authenticated one) and this process ` +
      `${round(cpu.here)} ms (${(cpu.here / requests).toFixed(1)} ms a request: fetch), ${round(cpu.registry + cpu.here)} ms CPU on 2 shared cores (${machineLoad()})`;
    figures.push({ name: `registry resolution, ${COMPONENTS} components`, value: round(ms), unit: 'ms', goal: GOAL_MS, note });
  } finally {
    await registry.stop();
  }
  const acr = await startAzureAcr();
  try {
    const agent = new MemoryAgent({ inputs: { azureSubscription: CONNECTIONS.wif, registry: acr.registry.host }, endpoints: memoryEndpoints(acr.standIn), ...jobContext(acr.standIn) });
    const { ms, requests, cpu, common, signIn } = await measure(acr.registry, async () => (await registryAccess(agent)).credentials);
    const note =
      `${common}: once challenged, the client asks the token service for each repository's scoped token (refresh-token grant) before its first request; the sign-in (job OIDC token, Entra, ACR exchange: 4 requests) ` +
      `took ${round(signIn)} ms of it; per run the registry used ${round(cpu.registry)} ms CPU (${(cpu.registry / requests).toFixed(1)} ms a request: ` +
      `it verifies an ES256 token on each) and this process ${round(cpu.here)} ms (fetch, and the stand-in token service signing ES256 tokens), ` +
      `${round(cpu.registry + cpu.here)} ms CPU on 2 shared cores (${machineLoad()})`;
    figures.push({ name: `registry resolution, ${COMPONENTS} components, ACR token auth (Azure connection)`, value: round(ms), unit: 'ms', goal: GOAL_MS, note });
  } finally {
    await acr.stop();
  }
  return figures;
}
