import type { DemoStep } from '../demo-context';

/** report: what the jobs above left in the store, as an auditor reads it (no database needed). */
export const reportStep: DemoStep = {
  title: 'report: one page from the store alone: backups, retention, drills against the RTO, health',
  async run(demo) {
    const { stdout } = await demo.cli(['report', '--config', demo.configPath, '--target', 'demo']);
    if (/ATTENTION/.test(stdout))
      demo.say(
        'A store a minute old cannot meet keepAtLeast 3 or 30 days of backups yet: the report says so ' +
          'instead of calling it fine.',
      );
  },
};
