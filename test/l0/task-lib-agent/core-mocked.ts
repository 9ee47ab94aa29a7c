// The unbundled TagComponents task with its flow replaced by a stand-in that prints the options it
// receives (as JSON on a marked line) and returns a fixed result: the task's wiring through task-lib.
import { runner } from './scenario';
import type { TagComponentsOptions, TagComponentsResult } from '../../../shared/flows/tag-components';

const tmr = runner();
tmr.registerMock('../../shared/flows/tag-components', {
  TagComponentsError: class extends Error {},
  DEFAULT_IDENTITY: { name: 'Azure Pipelines', email: 'pipeline@dev.azure.com' },
  tagComponents: async (options: TagComponentsOptions): Promise<TagComponentsResult> => {
    console.log(`L0_OPTIONS ${JSON.stringify(options)}`);
    return {
      components: [{ name: 'heuristic', version: '1.4.2', versionSource: 'workspace', path: 'services/heuristic', tag: 'heuristic/1.4.2', status: 'created' }],
      tags: ['heuristic/1.4.2'],
      commit: '0123456789abcdef0123456789abcdef01234567',
      dryRun: options.dryRun ?? false,
      pushed: !options.dryRun,
    };
  },
});
tmr.run();
