import { createEnvPR } from '../../shared/flows/create-env-pr';
import { runTask } from '../common/task-lib-agent';
import { readOptions, report } from './task';

void runTask(__dirname, async (agent) => report(agent, await createEnvPR(readOptions(agent), agent)));
