// Tests run tasks exactly as the local runner (and the agent) does.
export { runTask, repoRoot, expandMacros, readTaskJson, type TaskRun, type TaskRunOptions } from '../../tools/local-agent';
