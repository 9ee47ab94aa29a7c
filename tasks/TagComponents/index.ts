import { runTask } from '../common/task-lib-agent';

void runTask(__dirname, async (agent) => {
  agent.setOutput('tags', '');
  return `componentsPath=${agent.input('componentsPath')}`;
});
