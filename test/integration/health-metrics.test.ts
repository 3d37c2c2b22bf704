import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

/** Runs the health handler cold with this health section; returns the EMF documents it wrote. */
async function emfDocuments(url: string, health: Record<string, unknown>) {
  process.env.PGMAINT_CONFIG = JSON.stringify({ targets: { t: { url, health } } });
  vi.resetModules();
  const { handler } = await import('../../functions/health/handler');
  const written: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    await handler({ target: 't' }, { awsRequestId: 'req-metrics', getRemainingTimeInMillis: () => 60_000 });
  } finally {
    process.stdout.write = write;
  }
  return written
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('health metrics: per check by default, none with "metrics": false', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('health_metrics');
  });
  afterAll(async () => db?.drop());

  it('publishes each check by default', async () => {
    const documents = await emfDocuments(db.url, {});
    expect(documents.filter((d) => 'HealthCheckStatus' in d).length).toBeGreaterThan(5);
  });

  it('publishes no per-check metric with metrics: false, and still the run metric the alarms watch', async () => {
    const documents = await emfDocuments(db.url, { metrics: false });
    expect(documents.filter((d) => 'HealthCheckStatus' in d || 'HealthCheckValue' in d)).toEqual([]);
    expect(documents.find((d) => 'JobSucceeded' in d)).toMatchObject({ job: 'health', target: 't' });
  });
});
