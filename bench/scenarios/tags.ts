import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Log } from '../../shared/agent';
import { discoverComponents } from '../../shared/cargo/discover';
import { run as runProcess } from '../../shared/process';
import { tagComponents } from '../../shared/flows/tag-components';
import { GitServer } from '../../stand-ins/git-server';
import { commitTree, gitEnv, inTemp, machineLoad, median, round, timed } from '../measure';
import type { Figure } from '../run';

const CRATES = 1000;
const RUNS = 3;
const GOAL_MS = 1000;
const TOKEN = 'bench-token-4f1d0c2b9e';

/** 1,000 crates: a workspace of 600 members inheriting its version, and 400 standalone crates. */
function crates(): Array<[string, string]> {
  const files: Array<[string, string]> = [
    ['Cargo.toml', '[workspace]\nresolver = "2"\nmembers = ["services/*"]\n\n[workspace.package]\nversion = "2.1.0"\nedition = "2021"\n'],
  ];
  for (let i = 0; i < CRATES; i++) {
    const workspace = i < 600;
    const dir = workspace ? `services/svc-${i}` : `standalone/component-${i}`;
    const version = workspace ? 'version.workspace = true' : `version = "1.${i}.0"`;
    files.push([`${dir}/Cargo.toml`, `[package]\nname = "${path.posix.basename(dir)}"\n${version}\nedition = "2021"\n`]);
    files.push([`${dir}/src/main.rs`, 'fn main() {}\n']);
  }
  return files;
}

/** A Log that timestamps the lines tagComponents writes at each phase boundary. */
function phaseLog(start: bigint) {
  const marks: Record<string, number> = {};
  const at = () => Number(process.hrtime.bigint() - start) / 1e6;
  const log: Log = {
    debug: (message) => {
      if (message.startsWith('Reading the tags of')) marks.remoteRead ??= at();
    },
    info: (message) => {
      if (/^(create|keep|skip|move|fail) /.test(message)) {
        marks.planned ??= at();
        marks.planEnd = at();
      }
      if (message.startsWith('Pushing ')) marks.push = at();
    },
    warn: () => undefined,
    setSecret: () => undefined,
  };
  return { log, marks };
}

/**
 * For the note: the same tags pushed again as the task pushed them before, from the repository itself with
 * one explicit refspec per tag (`refs/tags/x:refs/tags/x`), to a new remote repository holding the commit.
 */
async function pushFromRepository(server: GitServer, work: string, name: string, env: Record<string, string>): Promise<number> {
  const target = `${name}-explicit`;
  await server.createRepo(target);
  await runProcess('git', ['push', '--quiet', '--', server.repoUrl(target), 'HEAD:refs/heads/main'], { cwd: work, env });
  const tags = (await runProcess('git', ['for-each-ref', '--format=%(refname)', 'refs/tags'], { cwd: work })).stdout.trim().split('\n');
  const refspecs = tags.map((ref) => `${ref}:${ref}`);
  const { ms } = await timed(() => runProcess('git', ['push', '--porcelain', '--atomic', '--', server.repoUrl(target), ...refspecs], { cwd: work, env }));
  return ms;
}

/**
 * TagComponents' core call creating 1,000 annotated tags at HEAD and pushing them in one push to a
 * real git smart-HTTP remote (stand-ins/git-server.ts: `git http-backend`) on loopback. Each run
 * starts from a fresh clone whose remote has no tags.
 */
export async function run(): Promise<Figure[]> {
  return inTemp('bench-tags-', async (dir) => {
    const env = gitEnv(path.join(dir, 'home'));
    await fs.mkdir(env.HOME, { recursive: true });
    const server = await GitServer.start(TOKEN);
    // The core call runs git in this process's environment: the same fixed identity and no global config.
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const seed = path.join(dir, 'seed');
      await commitTree(seed, crates(), env);
      const auth = { ...env, GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.extraheader', GIT_CONFIG_VALUE_0: `AUTHORIZATION: bearer ${TOKEN}` };
      const totals: number[] = [];
      const phases: Array<Record<string, number>> = [];
      let discovery: number[] = [];
      let alternative = 0;
      const gitVersion = (await runProcess('git', ['--version'])).stdout.trim();
      for (let i = 0; i < RUNS; i++) {
        const name = `app-${i}`;
        await server.createRepo(name);
        await runProcess('git', ['push', '--quiet', server.repoUrl(name), 'main'], { cwd: seed, env: auth });
        const work = path.join(dir, `work-${i}`);
        await runProcess('git', ['clone', '--quiet', server.repoUrl(name), work], { env: auth });
        discovery = [...discovery, (await timed(() => discoverComponents(work))).ms];
        const start = process.hrtime.bigint();
        const { log, marks } = phaseLog(start);
        const { ms, value } = await timed(() => tagComponents({ componentsPath: work, token: TOKEN }, log));
        if (!value.pushed || value.tags.length !== CRATES) throw new Error(`expected ${CRATES} tags pushed, got ${value.tags.length} (pushed: ${value.pushed})`);
        const remote = await runProcess('git', ['for-each-ref', '--count=2000', '--format=%(objecttype)', 'refs/tags'], { cwd: server.bareDir(name) });
        const annotated = remote.stdout.split('\n').filter((t) => t === 'tag').length;
        if (annotated !== CRATES) throw new Error(`the remote holds ${annotated} annotated tags, expected ${CRATES}`);
        totals.push(ms);
        phases.push({ ...marks, end: ms });
        if (i === RUNS - 1) alternative = await pushFromRepository(server, work, name, auth);
        await fs.rm(work, { recursive: true, force: true });
      }
      const m = (pick: (p: Record<string, number>) => number) => round(median(phases.map(pick)));
      const note =
        `core call tagComponents(), annotated, median of ${RUNS} runs from fresh clones; split: ` +
        `discovery ${round(median(discovery))} ms + selection, tag names, manifest status and HEAD ${m((p) => p.remoteRead) - round(median(discovery))} ms, ` +
        `ls-remote and local tags ${m((p) => p.planned - p.remoteRead)} ms, ` +
        `tag objects ${m((p) => p.push - p.planEnd)} ms (one pack), then at once the local refs (one update-ref transaction writing 1,000 loose ` +
        `ref files) and one push: ${m((p) => p.end - p.push)} ms. The push runs from a scratch git directory that holds no ref (objects through alternates, ` +
        `configuration through an include) and names each tag's object: git push (${gitVersion}) matches every explicit refspec's source ` +
        `against every local ref with every rev-parse rule, so the same push from the repository itself (1,000 explicit refspecs, as before) took ` +
        `${round(alternative)} ms. What remains of the push: git matching each destination against the remote's refs (twice: push and send-pack, ` +
        `O(tags x remote refs)), transport, and the server writing one loose ref file, in a directory of its own, per tag (${machineLoad()})`;
      return [{ name: `TagComponents: ${CRATES.toLocaleString('en')} tags in one push`, value: round(median(totals)), unit: 'ms', goal: GOAL_MS, note }];
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
      await server.stop();
    }
  });
}
