import { promises as fs, mkdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Log } from '../../shared/agent';
import { updateGitOps } from '../../shared/flows/update-gitops';
import type { Figure } from '../run';

const COMPONENTS = 100;
const REGISTRY = 'myacr.azurecr.io';
const quiet: Log = { debug: (m) => (process.env.BENCH_DEBUG ? console.log(m) : undefined), info: () => undefined, warn: () => undefined, setSecret: () => undefined };
const name = (i: number) => `service-${String(i).padStart(3, '0')}`;

/**
 * An environment of `files` overlay files: one kustomization with an images entry per component, and
 * workloads (Deployments with an initContainer, CronJobs, ConfigMaps without images, HelmReleases with
 * Flux setter markers) spread over sub-folders, each mentioning one of the components.
 */
async function generate(files: number): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-gitops-'));
  const env = path.join(dir, 'environments', 'edge');
  const lock = ['# versions.yaml', 'schemaVersion: 1', 'environments:', '  edge:'];
  const images = ['apiVersion: kustomize.config.k8s.io/v1beta1', 'kind: Kustomization', 'resources: []', 'images:'];
  for (let c = 0; c < COMPONENTS; c++) {
    lock.push(`    ${name(c)}:`, `      image: ${REGISTRY}/edge/${name(c)}   # repository`, '      tag: v1.0.0');
    images.push(`  - name: ${name(c)}`, `    newName: ${REGISTRY}/edge/${name(c)}`, '    newTag: v1.0.0');
  }
  await fs.mkdir(env, { recursive: true });
  await fs.writeFile(path.join(dir, 'versions.yaml'), lock.join('\n') + '\n');
  await fs.writeFile(path.join(env, 'kustomization.yaml'), images.join('\n') + '\n');
  for (let f = 1; f < files; f++) {
    const component = name(f % COMPONENTS);
    const folder = path.join(env, `site-${String(Math.floor(f / 50)).padStart(3, '0')}`);
    mkdirSync(folder, { recursive: true });
    let text: string;
    switch (f % 4) {
      case 0:
        text = `# deployment of ${component} at site ${f}\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${component}-${f}\n  labels:\n    app: ${component}\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: ${component}\n  template:\n    metadata:\n      labels:\n        app: ${component}\n    spec:\n      initContainers:\n        - name: migrate\n          image: ${REGISTRY}/edge/${component}:v1.0.0\n          args: ["migrate"]\n      containers:\n        - name: ${component}\n          image: "${REGISTRY}/edge/${component}:v1.0.0"\n          ports:\n            - containerPort: 8080\n          resources:\n            limits: {cpu: 500m, memory: 256Mi}\n        - name: proxy\n          image: ${REGISTRY}/edge/envoy:v1.30.1\n`;
        break;
      case 1:
        text = `apiVersion: batch/v1\nkind: CronJob\nmetadata:\n    name: ${component}-job-${f}\nspec:\n    schedule: "*/10 * * * *"\n    jobTemplate:\n        spec:\n            template:\n                spec:\n                    restartPolicy: OnFailure\n                    containers:\n                        -   name: job\n                            image: '${REGISTRY}/edge/${component}:v1.0.0'\n`;
        break;
      case 2:
        text = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings-${f}\ndata:\n  LOG_LEVEL: info\n  SITE: "${f}"\n  FEATURES: |\n    alpha=true\n    beta=false\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: svc-${f}\nspec:\n  ports:\n  - port: 80\n    targetPort: 8080\n`;
        break;
      default:
        text = `apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: ${component}-${f}\nspec:\n  interval: 10m\n  values:\n    image:\n      repository: ${REGISTRY}/edge/${component} # {"$imagepolicy": "flux-system:${component}:name"}\n      tag: v1.0.0 # {"$imagepolicy": "flux-system:${component}:tag"}\n    replicas: 1\n`;
    }
    writeFileSync(path.join(folder, `resource-${f}.yaml`), text);
  }
  return dir;
}

async function timeUpdate(files: number): Promise<{ ms: number; written: number }> {
  const dir = await generate(files);
  try {
    const images = Array.from({ length: COMPONENTS }, (_, c) => `${name(c)}=v1.1.0@sha256:${String(c % 10).repeat(64)}`);
    const started = process.hrtime.bigint();
    const result = await updateGitOps({ gitopsPath: dir, environment: 'edge', manifestsPath: 'environments/edge', images, pinDigest: false }, quiet);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (result.changes.length !== COMPONENTS) throw new Error(`expected ${COMPONENTS} changes, got ${result.changes.length}`);
    return { ms, written: result.files.length };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** One update of 100 components across 1,000 and 2,000 overlay files (median of 5 fresh trees). */
export async function run(): Promise<Figure[]> {
  const figures: Figure[] = [];
  await timeUpdate(1000); // warm the JIT and module loading (not recorded)
  for (const [files, goal] of [[1000, 1000], [2000, 2000]] as const) {
    const runs = [];
    for (let i = 0; i < 5; i++) runs.push(await timeUpdate(files));
    runs.sort((a, b) => a.ms - b.ms);
    const median = runs[2];
    figures.push({
      name: `update 100 components across ${files.toLocaleString('en-US')} files`,
      value: Math.round(median.ms),
      unit: 'ms',
      goal,
      note: `median of 5; every file parsed, ${median.written} written (lock, kustomization, workloads, setters); load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs`,
    });
  }
  return figures;
}
