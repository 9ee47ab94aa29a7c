import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ALLOW_MISSING_TOOLS, missingTools } from '../helpers/requires';

const MISSING = 'rgr-no-such-program';

interface MochaJson {
  stats: { passes: number; pending: number; failures: number };
  failures: Array<{ fullTitle: string; err: { message: string } }>;
  pending: Array<{ fullTitle: string }>;
}

/** Runs a small spec that asks for a missing program (in a test and in a `before` hook) and for git, in its own mocha. */
function runSpec(env: Record<string, string | undefined>): { code: number | null; report: MochaJson } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'requires-'));
  try {
    const spec = path.join(dir, 'needs.test.js');
    writeFileSync(
      spec,
      `const { requireTool } = require(${JSON.stringify(path.join(__dirname, '..', 'helpers', 'requires.js'))});
describe('needs programs', function () {
  it('a missing one, in a test', async function () { await requireTool(this, ${JSON.stringify(MISSING)}); });
  it('one that is installed', async function () { await requireTool(this, 'git'); });
  describe('a missing one, in a before hook', function () {
    before(async function () { await requireTool(this, 'git', ${JSON.stringify(MISSING)}); });
    it('would run after the hook', () => {});
  });
});
`,
    );
    const childEnv = { ...process.env, ...env };
    for (const [key, value] of Object.entries(env)) if (value === undefined) delete childEnv[key];
    const result = spawnSync(process.execPath, [require.resolve('mocha/bin/mocha.js'), '--no-config', '--reporter', 'json', spec], { encoding: 'utf8', env: childEnv });
    return { code: result.status, report: JSON.parse(result.stdout) as MochaJson };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('requireTool: a test that needs a missing program fails unless skipping is allowed', () => {
  it('finds the programs that are not on PATH', async () => {
    assert.deepEqual(await missingTools(['git', MISSING, 'sh']), [MISSING]);
  });

  it(`fails the test and the hook, naming the program and the install script, when ${ALLOW_MISSING_TOOLS} is unset`, () => {
    const { code, report } = runSpec({ [ALLOW_MISSING_TOOLS]: undefined });
    assert.equal(code, 2, 'mocha exits with the number of failures');
    assert.deepEqual(report.stats, { ...report.stats, passes: 1, pending: 0, failures: 2 });
    for (const failure of report.failures) {
      assert.match(failure.err.message, new RegExp(`^${MISSING} is not installed \\(not on PATH\\)`), failure.fullTitle);
      assert.match(failure.err.message, /run `bash scripts\/install-system-deps\.sh`/);
      assert.match(failure.err.message, new RegExp(`set ${ALLOW_MISSING_TOOLS}=1 to skip`));
    }
    assert.deepEqual(report.failures.map((f) => f.fullTitle).sort(), ['needs programs a missing one, in a before hook "before all" hook for "would run after the hook"', 'needs programs a missing one, in a test']);
  });

  it(`skips them when ${ALLOW_MISSING_TOOLS}=1, and only them`, () => {
    const { code, report } = runSpec({ [ALLOW_MISSING_TOOLS]: '1' });
    assert.equal(code, 0);
    assert.deepEqual(report.stats, { ...report.stats, passes: 1, pending: 2, failures: 0 });
    assert.deepEqual(report.pending.map((p) => p.fullTitle).sort(), ['needs programs a missing one, in a before hook would run after the hook', 'needs programs a missing one, in a test']);
  });

  it(`does not skip for another value of ${ALLOW_MISSING_TOOLS}`, () => {
    assert.equal(runSpec({ [ALLOW_MISSING_TOOLS]: 'yes' }).code, 2);
  });
});
