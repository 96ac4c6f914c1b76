/**
 * The files `rounds-agent plugin new` writes besides package.json, by name; `__NAME__` stands for
 * the plugin's name. Text in the agent rather than files beside it, so that every build of the
 * agent (the single-file one too) can scaffold. test/e2e/plugin-new.e2e.spec.ts installs, tests,
 * typechecks and runs what they make.
 */
export const PLUGIN_TEMPLATE: Readonly<Record<string, string>> = {
  'plugin.js': `// @ts-check
import { definePlugin, evaluateThresholds, outcome } from '@rounds/plugin-sdk';
import { configSchema } from './schema.js';

/**
 * __NAME__: fetches one page and reports how long it took. A starting point: replace what
 * run() looks at, keep its shape — every network call takes ctx.signal, a target that is down
 * is an outcome (CRITICAL with a reason), never a throw.
 */
export default definePlugin({
  name: '__NAME__',
  version: '0.1.0',
  // The plugin API major this plugin is written for; an agent that speaks another one refuses it.
  apiVersion: __API_VERSION__,
  description: 'Fetches a page over HTTP and checks that it answers, and how fast.',
  configSchema,
  metrics: [
    { name: 'response_seconds', unit: 'seconds', help: 'Time from sending the request to the end of the response body.' },
    { name: 'status_code', unit: '', help: 'HTTP status code of the response.' },
  ],
  async run(config, ctx) {
    const started = ctx.now();
    /** @type {Response} */
    let response;
    try {
      response = await fetch(config.url, {
        signal: ctx.signal,
        headers: config.token ? { authorization: \`Bearer \${config.token}\` } : {},
      });
      await response.arrayBuffer();
    } catch (e) {
      if (ctx.signal.aborted) return outcome('CRITICAL', 'timeout', \`\${config.url} did not answer before the deadline\`);
      return unreachable(config.url, e);
    }
    const seconds = (ctx.now() - started) / 1000;
    /** @type {import('@rounds/plugin-sdk').Metric[]} */
    const metrics = [
      { name: 'response_seconds', value: seconds, unit: 'seconds' },
      { name: 'status_code', value: response.status, unit: '' },
    ];
    const took = \`HTTP \${response.status} in \${Math.round(seconds * 1000)} ms\`;
    if (response.status === 401 || response.status === 403) return outcome('CRITICAL', 'auth', \`\${config.url} refused the credentials: \${took}\`, metrics);
    if (!response.ok) return outcome('CRITICAL', 'unexpected_response', \`\${config.url} answered \${took}\`, metrics);
    const verdict = evaluateThresholds(seconds, config.warning, config.critical);
    if (verdict !== 'OK') return outcome(verdict, 'threshold', \`\${config.url} answered slowly: \${took}\`, metrics);
    return outcome('OK', 'ok', \`\${config.url} answered \${took}\`, metrics);
  },
});

/**
 * The outcome for a request that got no answer, with the reason from the network error.
 * @param {string} url
 * @param {unknown} error
 */
function unreachable(url, error) {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code = cause instanceof Error && 'code' in cause ? cause.code : undefined;
  const message = cause instanceof Error ? cause.message : String(cause);
  if (code === 'ECONNREFUSED') return outcome('CRITICAL', 'refused', \`\${url}: connection refused\`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return outcome('CRITICAL', 'dns', \`\${url}: host name not found\`);
  return outcome('CRITICAL', 'unreachable', \`\${url}: \${message}\`);
}
`,
  'schema.js': `// @ts-check
import { secret, thresholdRange, z } from '@rounds/plugin-sdk';

/**
 * The config of a __NAME__ check: validated by the collector when the check is saved and by the
 * agent when it receives it, never inside run(). Unknown keys are errors (strictObject); a
 * secret() is redacted in the UI, the API and logs.
 */
export const configSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).meta({ description: 'The page to fetch' }),
  token: secret('Bearer token sent in the Authorization header').optional(),
  warning: thresholdRange('Response time in seconds that makes the check WARNING').optional(),
  critical: thresholdRange('Response time in seconds that makes the check CRITICAL').optional(),
});
`,
  'plugin.spec.js': `// @ts-check
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { closeServer, closedPort, configErrors, listenLocal, ManualClock, metric, runCheck } from '@rounds/plugin-sdk/testing';
import plugin from './plugin.js';

// A real server on a port the OS picks: the plugin's requests go over a real socket.
describe('__NAME__', () => {
  /** @type {import('node:http').ServerResponse[]} */
  const held = [];
  const server = createServer((req, res) => {
    if (req.url === '/never') return void held.push(res);
    if (req.url === '/private' && req.headers.authorization !== 'Bearer s3cret') return void res.writeHead(401).end();
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ready');
  });
  let base = '';
  before(async () => {
    base = \`http://127.0.0.1:\${await listenLocal(server)}\`;
  });
  after(async () => {
    for (const res of held) res.destroy();
    await closeServer(server);
  });

  test('run() returns OK with the response time and status code when the page answers 200', async () => {
    const report = await runCheck(plugin, { url: \`\${base}/\` });
    assert.equal(report.outcome.status, 'OK', report.outcome.summary);
    assert.equal(report.outcome.reason, 'ok');
    assert.equal(metric(report, 'status_code'), 200);
    assert.ok(metric(report, 'response_seconds') >= 0);
  });

  test('run() returns CRITICAL with reason=auth when the page refuses the token, and OK with the right one', async () => {
    const refused = await runCheck(plugin, { url: \`\${base}/private\`, token: 'wrong' });
    assert.equal(refused.outcome.status, 'CRITICAL');
    assert.equal(refused.outcome.reason, 'auth');
    const accepted = await runCheck(plugin, { url: \`\${base}/private\`, token: 's3cret' });
    assert.equal(accepted.outcome.status, 'OK', accepted.outcome.summary);
  });

  test('run() returns CRITICAL with reason=refused when nothing listens on the port', async () => {
    const report = await runCheck(plugin, { url: \`http://127.0.0.1:\${await closedPort()}/\` });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'refused');
  });

  test('run() returns WARNING with reason=threshold when the answer is slower than the warning range', async () => {
    // "@0:10" alerts inside 0–10 s: every answer is "slow", which tests the threshold without a slow server.
    const report = await runCheck(plugin, { url: \`\${base}/\`, warning: '@0:10' });
    assert.equal(report.outcome.status, 'WARNING', report.outcome.summary);
    assert.equal(report.outcome.reason, 'threshold');
  });

  test('run() returns CRITICAL with reason=timeout at the deadline when the page never answers', async () => {
    // The runner owns time: with a ManualClock the deadline comes when the test says so.
    const clock = new ManualClock(Date.now());
    const running = runCheck(plugin, { url: \`\${base}/never\` }, { timeoutMs: 3000, clock });
    while (held.length === 0) await new Promise((resolve) => setImmediate(resolve));
    await clock.advance(3000);
    const report = await running;
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'timeout');
  });

  test('the schema refuses a URL that is not http(s) and an unknown field, naming both', () => {
    assert.equal(configErrors(plugin, { url: 'ftp://pacs/', retries: 3 }), 'url: must be an http:// or https:// URL; retries: unknown field');
  });
});
`,
  'sample.yaml': `# A __NAME__ check's config: what the collector stores for the check, and what
# \`rounds-agent run-once __NAME__ --config sample.yaml --agent-config <agent.yaml>\` runs.
url: http://127.0.0.1:8042/app/explorer.html
# token: set it here only on your machine; in the collector it is a secret field
warning: 1
critical: 5
`,
  'README.md': `# __NAME__ — a Rounds check plugin

Fetches a page over HTTP and checks that it answers, and how fast. Written by
\`rounds-agent plugin new __NAME__\`; make it yours by changing \`schema.js\` (what a check of it is
configured with), \`plugin.js\` (what it looks at) and \`plugin.spec.js\` (how you know it works).
The guide is docs/writing-plugins.md in the Rounds repository.

## Config

| field | | |
| --- | --- | --- |
| \`url\` | required | the page to fetch (http or https) |
| \`token\` | secret, optional | bearer token sent in the Authorization header |
| \`warning\` | optional | response time in seconds, as a Nagios range (\`1\` = WARNING above 1 s) |
| \`critical\` | optional | the same for CRITICAL |

## Metrics

| name | unit | |
| --- | --- | --- |
| \`response_seconds\` | seconds | time from sending the request to the end of the response body |
| \`status_code\` | | HTTP status code of the response |

## Outcomes

OK; CRITICAL with reason \`refused\`, \`dns\`, \`unreachable\`, \`timeout\`, \`auth\` (401/403) or
\`unexpected_response\` (another status outside 2xx); WARNING or CRITICAL with reason \`threshold\`.

## Develop

    npm install          # the SDK, from the tarball package.json names; needs no registry
    npm test             # plugin.spec.js, against a real HTTP server on a free port
    npm install --save-dev typescript @types/node && npm run typecheck   # optional: checks the JSDoc types

Try it as the agent runs it: point \`url\` in \`sample.yaml\` at a real page, and give \`run-once\` an
agent config whose \`plugins.dir\` is the folder that holds this one:

    rounds-agent run-once __NAME__ --config sample.yaml --agent-config /etc/rounds/agent.yaml

## Deploy

Copy this folder (with its \`node_modules\`) into the agent's \`plugins.dir\` and restart the agent;
the collector then offers \`__NAME__\` for checks on that agent, with a form from \`schema.js\`.
`,
  'tsconfig.json': `{
  "compilerOptions": {
    "allowJs": true,
    "checkJs": true,
    "noEmit": true,
    "strict": true,
    "target": "ES2023",
    "module": "nodenext",
    "moduleResolution": "nodenext",
    "types": ["node"],
    "skipLibCheck": true
  },
  "include": ["*.js"]
}
`,
  '.gitignore': `node_modules/
*.tgz
`,
};
