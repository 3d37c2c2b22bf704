import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, writeConfig } from '../helpers/cli';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

describe("a target's sslmode reaches the connection", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('tls');
  });
  afterAll(async () => db?.drop());

  const config = (target: Record<string, unknown>) =>
    writeConfig({ targets: { t: { url: db.url, ...target } } });

  it('refuses a server it cannot verify with sslmode verify-full (the test server has no certificate)', async () => {
    const out = await runCli(['health', '--config', config({ sslmode: 'verify-full' }), '--target', 't']);
    expect(out.code).not.toBe(0);
    expect(out.stdout + out.stderr).toMatch(/does not support SSL|self[- ]signed|certificate/i);
  });

  it('connects as before without one (a local URL keeps prefer)', async () => {
    const out = await runCli(['health', '--config', config({}), '--target', 't', '--json']);
    expect(JSON.parse(out.stdout)).toMatchObject({ target: 't' });
  });
});
