import { buildRustContainers } from '../../shared/flows/build-containers';
import { runTask } from '../common/task-lib-agent';
import { readOptions, report } from './task';

void runTask(__dirname, async (agent) => report(agent, await buildRustContainers(await readOptions(agent), agent)));
