import { assertFakedWorkerClock } from './faked-clock';

// Under test:dates each test worker must run the faked date as well, not only the backends.
assertFakedWorkerClock();
