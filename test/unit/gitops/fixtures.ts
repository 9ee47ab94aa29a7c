import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../../helpers/run-task';
import type { ImageChange } from '../../../shared/updaters/change';

export const fixtureDir = path.join(repoRoot, 'test', 'fixtures', 'gitops');
export const fixture = (...parts: string[]) => readFileSync(path.join(fixtureDir, ...parts), 'utf8');
export const crlf = (text: string) => text.replace(/\n/g, '\r\n');

export const D = (c: string) => `sha256:${c.repeat(64)}`;

/** heuristic v1.4.1 -> v1.4.2 pinned to D('1'); collector v2.0.0@D('a') -> v2.1.0 unpinned. */
export const CHANGES: ImageChange[] = [
  { component: 'heuristic', from: { name: 'myacr.azurecr.io/heuristic', tag: 'v1.4.1' }, to: { name: 'myacr.azurecr.io/heuristic', tag: 'v1.4.2', digest: D('1') } },
  { component: 'collector', from: { name: 'myacr.azurecr.io/collector', tag: 'v2.0.0', digest: D('a') }, to: { name: 'myacr.azurecr.io/collector', tag: 'v2.1.0' } },
];
