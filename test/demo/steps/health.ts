import type { DemoStep } from '../demo-context';

export const healthStep: DemoStep = {
  title: 'health: the checks a DBA runs',
  async run(demo) {
    await demo.cli(['health', '--config', demo.configPath, '--target', 'demo'], { expectExit: [0, 1, 2] });
  },
};
