import * as assert from 'node:assert/strict';
import { evaluateCondition, parseCondition } from '../../tools/condition';
import { PipelineError, planPipeline, type TaskStep } from '../../tools/pipeline';

const TASKS = ['BuildRustContainers', 'CreateEnvPR', 'TagComponents', 'UpdateGitOpsVersions'];
const plan = (text: string, params: Record<string, string> = {}) => planPipeline(text, 'pipeline.yml', { params, tasks: TASKS, taskMajor: (name) => (TASKS.includes(name) ? 1 : undefined) });
const refuses = (text: string, message: RegExp, params: Record<string, string> = {}) => assert.throws(() => plan(text, params), (error: Error) => error instanceof PipelineError && message.test(error.message));

describe('the local runner: reading a pipeline file', () => {
  it('orders stages (each after the one before it unless dependsOn says otherwise) and jobs by dependsOn', () => {
    const text = [
      'stages:',
      '  - stage: build',
      '    jobs:',
      '      - job: images',
      '        dependsOn: tag',
      '        steps: [{ task: BuildRustContainers@1, name: plan }]',
      '      - job: tag',
      '        steps: [{ task: TagComponents@1, name: tag }]',
      '  - stage: gitops',
      '    jobs:',
      '      - job: update',
      '        variables:',
      "          matrix: $[ stageDependencies.build.images.outputs['plan.matrix'] ]",
      '          where: devtest',
      '        steps: [{ task: UpdateGitOpsVersions@1 }, { checkout: gitops }, { task: AzureCLI@2 }]',
    ].join('\n');
    const { jobs, hasJobs } = plan(text);
    assert.equal(hasJobs, true);
    assert.deepEqual(jobs.map((j) => [j.key, j.needs, j.stageNeeds]), [['build/tag', [], []], ['build/images', ['build/tag'], []], ['gitops/update', [], ['build']]]);
    assert.deepEqual(jobs[2].outputs, { matrix: { stage: 'build', job: 'images', variable: 'plan.matrix' } });
    assert.deepEqual(jobs[2].variables, { where: 'devtest' });
    assert.deepEqual(jobs[2].steps.map((s) => (s.kind === 'task' ? s.ref : s.notice)), [
      'UpdateGitOpsVersions@1',
      'skipped: checkout: gitops does not run locally',
      'skipped: built-in task AzureCLI@2 does not run locally',
    ]);
  });

  it('expands ${{ parameters.x }} from defaults and --param; a value that is only the expression keeps its type', () => {
    const text = [
      'parameters:',
      '  - { name: env, default: devtest }',
      '  - { name: dry, type: boolean, default: true }',
      '  - { name: path, type: string }',
      'steps:',
      '  - task: UpdateGitOpsVersions@1',
      "    inputs: { environment: '${{ parameters.env }}', dryRun: '${{ parameters.dry }}', gitopsPath: '${{ parameters.path }}/gitops-${{ parameters[''env''] }}' }",
    ].join('\n');
    refuses(text, /Parameter 'path' has no default: give it with --param path=<value>\./);
    const step = plan(text, { path: '/work', env: 'qa' }).jobs[0].steps[0] as TaskStep;
    assert.deepEqual(step.inputs, { environment: 'qa', dryRun: 'true', gitopsPath: '/work/gitops-qa' });
    refuses(text, /--param environment: pipeline\.yml declares no parameter 'environment' \(it has: env, dry, path\)\./, { environment: 'qa' });
  });

  it('takes a deployment job (runOnce) and a single pasted step; refuses an unknown dependency and a cycle', () => {
    const deployment = plan('jobs:\n  - deployment: promote\n    environment: qa\n    strategy: { runOnce: { deploy: { steps: [{ task: CreateEnvPR@1, name: pr }] } } }\n');
    assert.deepEqual([deployment.jobs[0].deployment, (deployment.jobs[0].steps[0] as TaskStep).name], [true, 'pr']);
    assert.deepEqual(plan('task: TagComponents@1\ninputs: { dryRun: true }\n').jobs.map((j) => [j.key, j.steps.length]), [['Job', 1]]);
    refuses('jobs:\n  - job: a\n    dependsOn: z\n    steps: [{ task: TagComponents@1 }]\n', /job 'a' depends on 'z', which is not one of a\./);
    refuses('jobs:\n  - job: a\n    dependsOn: b\n    steps: []\n  - job: b\n    dependsOn: a\n    steps: []\n', /job '[ab]' depends on itself through dependsOn\./);
    refuses('stages:\n  - stage: s\n    dependsOn: []\n    jobs:\n      - job: a\n        variables: { x: "$[ stageDependencies.t.b.outputs[\'s.v\'] ]" }\n        steps: []\n  - stage: t\n    jobs: []\n', /stage 't' is not one of|stage 's' does not depend on 't'/);
    refuses('steps:\n  - task: TagComponents@2\n', /pipeline\.yml: step 1: TagComponents has major version 1 here, not '2'\./);
  });

  it('reads the file as the tasks read YAML: a syntax error or hostile nesting at its line, one document only', () => {
    refuses('steps:\n  - task: TagComponents@1\n    inputs: { dryRun: true\n', /^pipeline\.yml:3: pipeline\.yml is not valid YAML/);
    refuses(`steps:\n  - task: TagComponents@1\n    inputs: ${'['.repeat(5000)}${']'.repeat(5000)}\n`, /^pipeline\.yml:3: pipeline\.yml is nested too deeply/);
    refuses('steps: []\n---\nsteps: []\n', /^pipeline\.yml holds 2 YAML documents: a pipeline is one\.$/);
    refuses('# nothing yet\n', /^pipeline\.yml holds no pipeline/);
  });
});

describe('the local runner: conditions', () => {
  const variables = { 'build.reason': 'PullRequest', 'build.sourcebranch': 'refs/heads/main', empty: '' };
  const holds = (text: string, dependenciesSucceeded = true) =>
    evaluateCondition(parseCondition(text), { variable: (name) => variables[name.toLowerCase() as keyof typeof variables], dependenciesSucceeded });

  it('evaluates what pipelines write, comparing strings without case as Azure Pipelines does', () => {
    assert.equal(holds("eq(variables['Build.Reason'], 'pullrequest')"), true);
    assert.equal(holds("and(succeeded(), ne(variables['Build.Reason'], 'PullRequest'))"), false);
    assert.equal(holds("and(succeeded(), ne(variables['Build.Reason'], 'PullRequest'))", false), false);
    assert.equal(holds("or(startsWith(variables.Build.SourceBranch, 'refs/heads/release/'), eq(variables['Build.SourceBranch'], 'refs/heads/main'))"), true);
    assert.equal(holds("in(variables['Build.Reason'], 'Manual', 'IndividualCI')"), false);
    assert.equal(holds("not(variables['empty'])"), true, 'an empty variable is false');
    assert.equal(holds("not(variables['missing'])"), true, 'an unset variable is empty');
    assert.equal(holds('always()', false), true);
    assert.equal(holds("eq('it''s', 'IT''S')"), true);
  });

  it('refuses what it cannot evaluate, saying what and where', () => {
    assert.throws(() => parseCondition("eq(dependencies.a.result, 'Succeeded')"), /'dependencies\.a\.result' is not something the local runner can read \(it reads variables\['Name'\] and literals\) at character 4/);
    assert.throws(() => parseCondition("eq(counter('x', 1), 2)"), /the function 'counter' is not one the local runner evaluates/);
    assert.throws(() => parseCondition('not(true, false)'), /'not' takes 1 argument\(s\)/);
    assert.throws(() => parseCondition('succeeded() extra'), /unexpected text/);
  });
});
