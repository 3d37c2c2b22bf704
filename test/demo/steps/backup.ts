import type { DemoStep } from '../demo-context';

export const backupStep: DemoStep = {
  title: 'backup: pg_dump streamed to the store, verified by a full read, listed',
  async run(demo) {
    await demo.cli(['backup', '--config', demo.configPath, '--target', 'demo']);
    await demo.cli(['backups', '--config', demo.configPath, '--target', 'demo']);
  },
};
