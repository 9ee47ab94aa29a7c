// The unbundled task with the real task library too (noMockTask): proves it finds its task.json.
import { runner } from './scenario';

runner().run(true);
