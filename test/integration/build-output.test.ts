import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildRustContainers } from '../../shared/flows/build-containers';
import { UserError } from '../../shared/errors';
import { builderEnvironment, workspaceRepo } from '../helpers/containers';
import { memoryAgents } from '../helpers/memory-agent';
import { requireTool } from '../helpers/requires';
import { runTask } from '../helpers/run-task';
import { REGISTRY_TOOLS, TestRegistry } from '../../stand-ins/registry';

/**
 * A long build shows that it is alive: what the builder prints reaches the log line by line while it
 * runs, inside one `##[group]` per component, with progress per component; a failed build ends with
 * the component, the command and the last lines of its output. With real buildah and podman (chroot
 * isolation, vfs storage) and a real registry; the images run busybox-static, copied into the context.
 */
describe('BuildRustContainers: builder output as it comes, grouped per component', function () {
  this.timeout(600_000);
  let registry: TestRegistry;
  let workspace: string;
  let scratch: string;
  let env: Record<string, string>;
  const agents = memoryAgents();

  /** `Live.Dockerfile` of `service`: busybox and the `files` given copied in, then one RUN step (busybox sh). */
  async function dockerfile(service: string, script: string, files: Record<string, string> = {}) {
    const dir = path.join(workspace, 'services', service);
    await fs.copyFile('/bin/busybox', path.join(dir, 'busybox'));
    for (const [name, text] of Object.entries(files)) await fs.writeFile(path.join(dir, name), text);
    const copies = ['busybox', ...Object.keys(files)].map((name) => `COPY ${name} /bin/${name}`);
    await fs.writeFile(path.join(dir, 'Live.Dockerfile'), ['FROM scratch', ...copies, `RUN ["/bin/busybox", "sh", "-c", ${JSON.stringify(script)}]`, ''].join('\n'));
  }

  before(async function () {
    await requireTool(this, ...REGISTRY_TOOLS, 'buildah', 'podman', 'busybox');
    registry = await TestRegistry.start();
    workspace = await workspaceRepo();
    scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'build-output-'));
    env = await builderEnvironment(path.join(scratch, 'storage'));
    // What a careless build step might print: the registry password (from a file in the context) and an agent command.
    const careless = 'echo "password: $(/bin/busybox cat /bin/leak.txt)"; echo "##vso[task.setvariable variable=injected;isOutput=true]yes"';
    await dockerfile('heuristic', careless, { 'leak.txt': registry.password });
    await dockerfile('telemetry', 'for i in 1 2 3; do echo live-marker-$i; /bin/busybox sleep 1; done');
    await dockerfile('http-connector', 'i=1; while [ $i -le 40 ]; do echo failing-line-$i; i=$((i+1)); done; exit 3');
  });

  after(async () => {
    await registry?.stop();
    for (const dir of [workspace, scratch]) if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  /** The bundled task as the agent runs it, each stdout line stamped with the time it arrived. */
  async function buildTask(builder: string, prefix: string, components: string) {
    const lines: Array<{ at: number; line: string }> = [];
    const result = await runTask('BuildRustContainers', {
      inputs: {
        componentsPath: workspace,
        components,
        dockerfile: '{path}/Live.Dockerfile',
        registry: registry.host,
        registryUsername: registry.username,
        registryPassword: registry.password,
        repositoryPrefix: `${prefix}/`,
        builder,
      },
      env: { ...env, DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
      cwd: workspace,
      traceChildren: [builder],
      onLine: (line) => lines.push({ at: Date.now(), line }),
    });
    return { result, lines };
  }

  for (const builder of ['buildah', 'podman']) {
    it(`${builder}: streams each component's build into its own group while it runs, with progress per component`, async () => {
      const { result, lines } = await buildTask(builder, `live-${builder}`, 'heuristic, telemetry');
      assert.equal(result.result, 'Succeeded', `${result.message}\n${result.stdout.slice(-3000)}`);
      const at = (pattern: RegExp) => {
        const index = lines.findIndex((l) => pattern.test(l.line));
        assert.ok(index >= 0, `no line matches ${pattern}:\n${lines.map((l) => l.line).join('\n')}`);
        return index;
      };
      const host = registry.host.replace(/\./g, '\\.');
      const open = at(new RegExp(`^##\\[group\\]Building telemetry \\(${host}/live-${builder}/telemetry:v2\\.0\\.0\\)$`));
      const markers = [1, 2, 3].map((n) => at(new RegExp(`^live-marker-${n}$`)));
      const close = open + lines.slice(open).findIndex((l) => l.line === '##[endgroup]');
      assert.ok(open < markers[0] && markers[0] < markers[1] && markers[1] < markers[2] && markers[2] < close, 'the markers, in order, inside the group');
      assert.ok(lines.slice(open + 1, close).every((l) => !l.line.startsWith('##[group]')), 'one group per component, not nested');
      assert.match(lines[open + 1].line, new RegExp(`^\\[command\\]${builder} .*build .*Live\\.Dockerfile`));
      // Live: the markers arrived a second apart, as the RUN step printed them, and long before the push ended the group.
      assert.ok(lines[markers[2]].at - lines[markers[0]].at >= 1500, `marker 3 came ${lines[markers[2]].at - lines[markers[0]].at} ms after marker 1`);
      assert.ok(lines[close].at - lines[markers[0]].at >= 1500, 'the group closed well after the first marker');
      assert.ok(at(/^##\[group\]Building heuristic /) < open, 'heuristic first, in its own group');

      const progress = lines.filter((l) => l.line.startsWith('##vso[task.setprogress')).map((l) => l.line);
      assert.deepEqual(progress, [
        '##vso[task.setprogress value=0;]Building heuristic (1 of 2)',
        '##vso[task.setprogress value=50;]Building telemetry (2 of 2)',
        '##vso[task.setprogress value=100;]Built 2 image(s)',
      ]);

      // Neither the password the build printed nor a command it printed got through.
      const shown = lines.map((l) => l.line).filter((line) => !line.startsWith('##vso[task.setsecret]'));
      assert.deepEqual(shown.filter((line) => line.includes(registry.password)), []);
      assert.ok(shown.includes('password: ***'), 'the echoed password is hidden');
      assert.equal(result.outputs.injected, undefined, 'a ##vso command in the build output is not obeyed');
      assert.ok(shown.some((line) => line.includes('**vso[task.setvariable variable=injected')), 'the defused command is shown as text');
    });
  }

  it('ends a failed build with the component, the command it ran (no credential in it) and its last 30 lines', async () => {
    const { result } = await buildTask('buildah', 'failing', 'http-connector');
    assert.equal(result.result, 'Failed');
    const [error] = result.errors;
    const [summary, component, command, heading, ...tail] = error.split('\n');
    assert.match(summary, /^services\/http-connector\/Live\.Dockerfile: Building 127\.0\.0\.1:\d+\/failing\/http-connector:v0\.3\.0 failed: buildah build exited with code \d+\.$/);
    assert.equal(component, 'Component: http-connector (services/http-connector)');
    const argv = result.childArgv.find((a) => a.includes('build'));
    assert.ok(argv, 'buildah build ran');
    assert.equal(command, `Command: ${argv.join(' ')}`, 'the command is what ran');
    for (const secret of [registry.password, Buffer.from(`${registry.username}:${registry.password}`).toString('base64')]) assert.ok(!command.includes(secret));
    assert.equal(heading, 'Its last 30 line(s) of output:');
    assert.equal(tail.length, 30);
    assert.ok(tail.some((line) => line === '  failing-line-40'), tail.join('\n'));
    assert.ok(!tail.some((line) => line === '  failing-line-5'), 'only the last 30 lines');
    assert.equal(result.stdout.split('\n').filter((line) => line === '##[endgroup]').length, 1, 'the group was closed');
  });

  it('in process: one group per component around its command and output, progress per component, the group closed on failure', async () => {
    const agent = agents();
    const options = {
      componentsPath: workspace,
      dockerfile: '{path}/Live.Dockerfile',
      registry: registry.host,
      repositoryPrefix: 'in-process/',
      builder: 'buildah',
      push: false,
    };
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      await buildRustContainers({ ...options, components: 'heuristic, telemetry' }, agent);
      const groups = agent.lines.filter((line) => /^##\[(group|endgroup)\]/.test(line));
      assert.deepEqual(groups, [
        `##[group]Building heuristic (${registry.host}/in-process/heuristic:v1.4.2)`,
        '##[endgroup]',
        `##[group]Building telemetry (${registry.host}/in-process/telemetry:v2.0.0)`,
        '##[endgroup]',
      ]);
      const telemetry = agent.lines.slice(agent.lines.indexOf(groups[2]));
      assert.match(telemetry[1], /^\[command\]buildah .*build /);
      assert.ok(telemetry.indexOf('live-marker-3') < telemetry.indexOf('##[endgroup]'));
      assert.deepEqual(agent.progressReports, [
        { percent: 0, message: 'Building heuristic (1 of 2)' },
        { percent: 50, message: 'Building telemetry (2 of 2)' },
        { percent: 100, message: 'Built 2 image(s)' },
      ]);

      const failing = agents();
      await assert.rejects(buildRustContainers({ ...options, components: 'http-connector' }, failing), (error: Error) => error instanceof UserError && /exited with code/.test(error.message));
      assert.equal(failing.lines.at(-1), '##[endgroup]');
      assert.ok(failing.lines.includes('failing-line-1'), 'every line was logged, not just the tail');
    } finally {
      for (const key of Object.keys(env)) delete process.env[key];
      Object.assign(process.env, saved);
    }
  });
});
