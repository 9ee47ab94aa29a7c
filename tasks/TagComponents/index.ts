import { tagComponents } from '../../shared/flows/tag-components';
import { runTask } from '../common/task-lib-agent';
import { readOptions, report, reportFailure } from './task';

void runTask(__dirname, async (agent) => report(agent, await tagComponents(readOptions(agent), agent).catch((error: unknown) => reportFailure(agent, error))));
