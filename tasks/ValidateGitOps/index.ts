import { validateGitOps } from '../../shared/flows/validate-gitops';
import { runTask } from '../common/task-lib-agent';
import { readOptions, report } from './task';

void runTask(__dirname, async (agent) => report(agent, await validateGitOps(await readOptions(agent), agent)));
