import { strict as assert } from 'node:assert';
import type { EnvChange } from '../../../shared/pr/changes';
import { commitMessage, parseCommitMessage } from '../../../shared/pr/commit-message';

const digest = (n: number) => `sha256:${n.toString(16).padStart(64, 'a')}`;
const image = (name: string, tag: string, n: number) => `registry.example.com:5000/edge/${name}:${tag}@${digest(n)}`;
const BUILD = { number: '20261123.7', id: '5678', url: 'https://dev.azure.com/edge/Edge/_build/results?buildId=5678' };

describe('CreateEnvPR commit messages', () => {
  it('name the components, versions and the producing build', () => {
    const message = commitMessage('devtest', [{ component: 'heuristic', from: image('heuristic', 'v1.1.0', 1), to: image('heuristic', 'v1.1.1', 2), bump: 'patch' }], BUILD);
    assert.match(message, /^chore\(devtest\): heuristic v1\.1\.1@sha256:aaaaaaaaaaaa\n\nheuristic: \S+:v1\.1\.0@\S+ -> \S+:v1\.1\.1@\S+ \(patch\)\n\nBuild: 20261123\.7 \(id 5678\) https:/);
    assert.equal(commitMessage('qa', []), 'chore(qa): update manifests\n');
    assert.match(commitMessage('qa', Array.from({ length: 4 }, (_, i) => ({ component: `c${i}`, to: `c${i}:v1` }))), /^chore\(qa\): update 4 components\n/);
  });

  it('are read back into the same changes and build', () => {
    const changes: EnvChange[] = [
      { component: 'heuristic', from: image('heuristic', 'v1.4.1', 1), to: image('heuristic', 'v1.5.0', 2), bump: 'minor' },
      // New to the environment, and a change without a bump (a digest-only move).
      { component: 'edge-agent', to: image('edge-agent', 'v0.9.4', 3) },
      { component: 'http-connector', from: 'localhost:5000/http-connector:v2.0.0', to: 'localhost:5000/http-connector:v3.0.0-rc.1', bump: 'major' },
      { component: 'ns.with-dots_and_underscores', from: 'v1', to: 'v2', bump: 'major' },
    ];
    for (const build of [BUILD, { number: 'Release 2026.11 rev 3', id: '99' }, { id: '17' }, undefined]) {
      const parsed = parseCommitMessage(commitMessage('devtest', changes, build));
      assert.deepEqual(parsed.changes, changes);
      // A build known only by its id is shown as its number too.
      assert.deepEqual(parsed.build, build && { number: build.number ?? build.id, ...build });
    }
  });

  it('read nothing from a message of another form', () => {
    assert.deepEqual(parseCommitMessage('Merged PR 12: qa edge-agent v0.9.9\n\nRelated work items: #4'), { changes: [] });
    // The subject is never a change, whatever it says.
    assert.deepEqual(parseCommitMessage('a: b -> c\n'), { changes: [] });
  });
});
