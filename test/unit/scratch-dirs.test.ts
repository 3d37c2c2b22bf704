import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeStaleTempDirs, scratchDirPrefix } from '../../functions/shared/temp-dirs';
import { testTempDir } from '../helpers/temp-dirs';

/** A pid no process has any more: a child that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid as number;
}

describe('scratch directories of killed runs', () => {
  const sleeper = spawn('sleep', ['60']);
  afterAll(() => {
    sleeper.kill();
  });

  it("removes a dead process's and a former same-pid process's, keeps live processes', other threads' and anything not pgmaint's", async () => {
    const parent = testTempDir('scratch-');
    const mine = await makeTempDir('restore', parent);
    const dead = join(parent, `${scratchDirPrefix('restore', await deadPid(), 0)}AbC123`);
    const samePidEarlier = join(parent, `${scratchDirPrefix('backup')}xYz789`);
    const live = join(parent, `${scratchDirPrefix('verify', sleeper.pid, 0)}Qq1234`);
    const otherHost = join(parent, `pgmaint-restore.elsewhere.${await deadPid()}.0-AbC123`);
    const otherThread = join(parent, `${scratchDirPrefix('restore', process.pid, threadId + 1)}AbC123`);
    const notOurs = [join(parent, 'pgmaint-restore-AbC123'), join(parent, 'pgmaint-test-AbC123')];
    for (const dir of [dead, samePidEarlier, live, otherHost, otherThread, ...notOurs]) {
      mkdirSync(dir);
      mkdirSync(join(dir, 'archive'));
    }

    const removed = await removeStaleTempDirs(parent);

    expect(removed.sort()).toEqual([dead, samePidEarlier].sort());
    for (const dir of [dead, samePidEarlier]) expect(existsSync(dir)).toBe(false);
    for (const dir of [mine, live, otherHost, otherThread, ...notOurs]) expect(existsSync(dir)).toBe(true);
    expect(readdirSync(parent)).toHaveLength(6);
  });

  it('finds nothing to remove under a directory that does not exist', async () => {
    expect(await removeStaleTempDirs(join(testTempDir('scratch-'), 'missing'))).toEqual([]);
  });
});
