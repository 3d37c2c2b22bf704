import { afterEach } from 'vitest';
import { createTestDatabase, type TestDatabase } from './database';

/**
 * Databases and connections a test makes, released after each test (last made, first released),
 * whether the test passed or not. Call inside a `describe`.
 */
export function testResources() {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  });
  return {
    /** Runs `cleanup` after the current test. */
    defer(cleanup: () => Promise<unknown>): void {
      cleanups.push(cleanup);
    },
    /** A fresh database, dropped after the test. */
    async database(prefix: string): Promise<TestDatabase> {
      const db = await createTestDatabase(prefix);
      cleanups.push(() => db.drop());
      return db;
    },
  };
}
