// The README's playwright.config.js as this machine runs it: Debian's chromium (Playwright's
// own browsers cannot be downloaded here), two workers, a JSON report.
import config from './playwright.config.js';

export default {
  ...config,
  workers: 2,
  retries: 0,
  reporter: [['json', { outputFile: process.env.REPORT }]],
  use: {
    ...config.use,
    launchOptions: {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
};
