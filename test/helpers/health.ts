/**
 * Health checks graded by the calendar (the server's end of life) or by the whole shared test
 * server's activity (WAL and checkpoints other test files cause). A test that expects a fresh
 * database to be all ok turns their grading off, so it holds on any date and beside any other file;
 * test/integration/health-server-checks.test.ts provokes each of them.
 */
export const UNGRADED_SERVER_WIDE = {
  server_version: { warning: null, critical: null },
  checkpoints: { warning: null, critical: null },
  wal_files: { warning: null, critical: null },
} as const;
