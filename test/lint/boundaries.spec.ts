import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';

/**
 * The layer boundaries of eslint.config.js, checked on in-memory sources at made-up paths:
 * each rule must fire where STYLE.md says it should and stay quiet where it should not, so a
 * re-layout or a config edit cannot silently turn one off. Type-aware rules are switched off
 * here because the files do not exist for the TypeScript project service.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const eslint = new ESLint({
  cwd: ROOT,
  overrideConfig: [{ files: ['**/*.ts'], ...tseslint.configs.disableTypeChecked }],
});

/** The boundary messages ESLint reports for `source` as if it were the file at `path`. */
async function boundaryErrors(path: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: resolve(ROOT, path) });
  assert.ok(result, `ESLint returned no result for ${path}`);
  const fatal = result.messages.filter((m) => m.fatal);
  assert.deepEqual(fatal, [], `ESLint could not parse ${path}`);
  return result.messages.filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports').map((m) => m.message);
}

async function assertRefused(path: string, source: string, why: RegExp): Promise<void> {
  const errors = await boundaryErrors(path, source);
  assert.equal(errors.length, 1, `expected one boundary error for ${path}: ${source}\n got ${JSON.stringify(errors)}`);
  assert.match(errors[0]!, why);
}

async function assertAllowed(path: string, source: string): Promise<void> {
  assert.deepEqual(await boundaryErrors(path, source), [], `${path} should be allowed: ${source}`);
}

describe('controllers never import the repository layer', () => {
  const refused = /A controller never imports the repository layer/;

  test('a controller importing a *.repository file beside it or in another folder is refused', async () => {
    await assertRefused('apps/collector/src/checks/checks.controller.ts', "import { ChecksRepository } from './checks.repository.js';", refused);
    await assertRefused('apps/collector/src/controllers/api/checks.controller.ts', "import { X } from '../../x.repository.js';", refused);
  });

  test('notifiers, pools, stores, the result writer and the data source are repositories too', async () => {
    for (const file of [
      '../alerting/smtp.notifier.js',
      '../agents/agent-client.pool.js',
      './api-token.store.js',
      '../results/result-writer.js',
      '../db/data-source.js',
    ]) {
      await assertRefused('apps/collector/src/api/agents.controller.ts', `import { X } from '${file}';`, refused);
    }
  });

  test('anything under repositories/, spool/ or entities/ is refused, type-only imports included', async () => {
    await assertRefused('apps/collector/src/controllers/pages.controller.ts', "import { index } from '../repositories/index.js';", refused);
    await assertRefused('apps/agent/src/controllers/agent.controller.ts', "import type { Spool } from '../spool/spool.js';", refused);
    await assertRefused('apps/collector/src/api/agents.controller.ts', "import type { AgentEntity } from '../../entities/index.js';", refused);
  });

  test('guards, filters, pipes and views count as controllers; their specs do not', async () => {
    await assertRefused('apps/agent/src/controllers/token.guard.ts', "import { X } from '../spool/file-spool.js';", refused);
    await assertRefused('apps/collector/src/api/error.filter.ts', "import { uniqueViolation } from '../repositories/unique-violation.js';", refused);
    await assertRefused('apps/collector/src/api/id.pipe.ts', "import { X } from './checks.repository.js';", refused);
    await assertRefused('apps/collector/src/views/pages/status.page.ts', "import { DATA_SOURCE } from '../../repositories/data-source.js';", refused);
    await assertAllowed('apps/collector/src/checks/checks.controller.spec.ts', "import { ChecksRepository } from './checks.repository.js';");
  });

  test('a controller may not do I/O itself: typeorm, gRPC, mail, files and sockets are refused', async () => {
    const io = /A controller never (imports|touches)/;
    for (const from of ['typeorm', '@grpc/grpc-js', 'nodemailer', 'node:fs', 'node:fs/promises', 'node:net', 'node:tls', 'fs']) {
      await assertRefused('apps/collector/src/checks/checks.controller.ts', `import { x } from '${from}';`, io);
    }
  });

  test('a controller may import services, Nest, the libs, and I/O packages as types only', async () => {
    await assertAllowed(
      'apps/collector/src/checks/checks.controller.ts',
      [
        "import { Controller, Get } from '@nestjs/common';",
        "import { ChecksService } from './checks.service.js';",
        "import { ValidationFailedError } from '../services/errors.js';",
        "import { parseEnrolment } from '#rounds/common';",
        "import type { Notifier } from '../notifications/notifier.js';",
        "import type { Metadata } from '@grpc/grpc-js';",
        "import { type DataSource } from 'typeorm';",
      ].join('\n'),
    );
  });
});

describe('services go through a repository for I/O', () => {
  test('a service importing node:fs, node:net, typeorm, @grpc/grpc-js or nodemailer is refused', async () => {
    for (const from of ['node:fs', 'node:fs/promises', 'fs/promises', 'node:net', 'node:tls', 'typeorm', '@grpc/grpc-js', 'nodemailer']) {
      await assertRefused('apps/collector/src/checks/checks.service.ts', `import { x } from '${from}';`, /A service never (imports|touches)/);
    }
    await assertRefused(
      'apps/agent/src/services/checks.service.ts',
      "import { readFile } from 'node:fs/promises';",
      /A service never touches files or sockets/,
    );
  });

  test('a service may import a repository, and typeorm or gRPC as types only', async () => {
    await assertAllowed(
      'apps/collector/src/checks/checks.service.ts',
      [
        "import { ChecksRepository } from './checks.repository.js';",
        "import type { DataSource } from 'typeorm';",
        "import type { ServiceError } from '@grpc/grpc-js';",
        "import { createHash } from 'node:crypto';",
      ].join('\n'),
    );
  });

  test('repositories and specs may use typeorm, files and sockets', async () => {
    await assertAllowed(
      'apps/collector/src/checks/checks.repository.ts',
      "import { DataSource } from 'typeorm';\nimport { readFile } from 'node:fs/promises';",
    );
    await assertAllowed('apps/agent/src/spool/file-spool.ts', "import { open } from 'node:fs/promises';");
    await assertAllowed('apps/collector/src/checks/checks.service.spec.ts', "import { mkdtempSync } from 'node:fs';");
  });
});

describe('no app imports the other, and libs never import apps', () => {
  test('the agent importing the collector is refused, however deep the file and however the path is written', async () => {
    const refused = /apps\/agent never imports apps\/collector/;
    await assertRefused('apps/agent/src/services/checks.service.ts', "import { x } from '../../../collector/src/services/x.js';", refused);
    await assertRefused('apps/agent/src/a/b/c/deep.ts', "import { x } from '../../../../../../apps/collector/src/x.js';", refused);
    await assertRefused('apps/agent/src/controllers/agent.controller.ts', "import { x } from '../../../collector/src/views/html.js';", refused);
  });

  test('the collector importing the agent is refused, specs included', async () => {
    const refused = /apps\/collector never imports apps\/agent/;
    await assertRefused('apps/collector/src/polling/poller.ts', "import { x } from '../../../agent/src/spool/spool.js';", refused);
    await assertRefused('apps/collector/src/polling/poller.spec.ts', "import type { X } from '../../../agent/src/config/agent-config.js';", refused);
  });

  test('a lib importing an app is refused', async () => {
    await assertRefused('libs/common/src/limits.ts', "import { x } from '../../../apps/collector/src/x.js';", /libs never import apps/);
    await assertRefused('libs/plugins/src/http/http.plugin.ts', "import type { X } from '../../../../apps/agent/src/x.js';", /libs never import apps/);
  });

  test('apps import the libs and their own folders; tests and benches may import either app', async () => {
    await assertAllowed('apps/agent/src/collector/client.ts', "import { x } from '../collector/x.js';\nimport { y } from '#rounds/plugins';");
    await assertAllowed('apps/collector/src/polling/poller.ts', "import { Scheduler } from '#rounds/common';\nimport { Status } from '#rounds/common/wire';");
    await assertAllowed('libs/plugins/src/http/http.plugin.ts', "import { x } from '../text-fields.js';\nimport { y } from '#rounds/common';");
    await assertAllowed(
      'test/e2e/x.e2e.spec.ts',
      "import { a } from '../../apps/agent/src/spool/file-spool.js';\nimport { b } from '../../apps/collector/src/repositories/testing.js';",
    );
  });
});
