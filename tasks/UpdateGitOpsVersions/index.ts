import { updateGitOps } from '../../shared/flows/update-gitops';
import { runTask } from '../common/task-lib-agent';
import { readOptions, report } from './task';

void runTask(__dirname, async (agent) => report(agent, await updateGitOps(await readOptions(agent), agent)));
