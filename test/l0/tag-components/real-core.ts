// The task with its real core (git, Cargo discovery) and the mock task library.
import { runner } from './scenario';

runner().run();
