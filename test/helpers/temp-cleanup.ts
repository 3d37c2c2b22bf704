import { afterAll } from 'vitest';
import { removeTestTempRoot } from './temp-dirs';

// A setup file of every project: the file's temp root goes when its tests are done.
afterAll(removeTestTempRoot);
