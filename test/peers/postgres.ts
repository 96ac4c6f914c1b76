import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort, makeTempDir } from './process.js';

/**
 * A real PostgreSQL server (Debian's) for the test run: its data in a temp dir, listening on
 * 127.0.0.1 on a port the OS just handed out, trust authentication. test/run.sh starts one for
 * the whole PostgreSQL pass (`node dist/test/peers/postgres.js start|stop`) and each spec makes
 * its own database on it (apps/collector/src/storage/testing.ts).
 */

const BIN_DIR = '/usr/lib/postgresql/15/bin';
/** PostgreSQL refuses to run as root; as root the server runs as Debian's `postgres` user. */
const RUN_AS = 'postgres';

export interface PostgresServer {
  /** The server's maintenance database as the superuser: specs CREATE DATABASE through it. */
  readonly url: string;
  readonly dir: string;
}

function pgBinary(name: string): string {
  const path = join(BIN_DIR, name);
  if (!existsSync(path)) throw new Error(`test peer "${name}" is not installed: run \`apt-get install postgresql\` (the test script installs it in CI)`);
  return path;
}

function asServerUser(command: string, args: string[]): void {
  const asRoot = process.getuid?.() === 0;
  const [file, argv] = asRoot ? ['runuser', ['-u', RUN_AS, '--', command, ...args]] : [command, args];
  execFileSync(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface StartOptions {
  /**
   * Keep PostgreSQL's own durability defaults (fsync, synchronous_commit, full_page_writes on):
   * for the bench, whose figures must be those of a production server, not of the test pass.
   */
  durable?: boolean;
}

export async function startPostgres(options: StartOptions = {}): Promise<PostgresServer> {
  const initdb = pgBinary('initdb');
  const pgCtl = pgBinary('pg_ctl');
  const dir = makeTempDir('postgres');
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', RUN_AS]).toString().trim());
    const gid = Number(execFileSync('id', ['-g', RUN_AS]).toString().trim());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  asServerUser(initdb, ['-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-locale', '-D', data]);
  const port = await freePort();
  // Durability buys nothing in a throw-away test server; the pass is shorter without fsyncs. Specs
  // open a pool per database and two run at a time, hence the generous connection limit.
  const durability = options.durable ? '' : ' -c fsync=off -c synchronous_commit=off -c full_page_writes=off';
  const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1${durability} -c max_connections=400`;
  asServerUser(pgCtl, ['-D', data, '-o', serverOptions, '-l', join(dir, 'server.log'), '-w', '-t', '30', 'start']);
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, dir };
}

export function stopPostgres(dir: string): void {
  try {
    asServerUser(pgBinary('pg_ctl'), ['-D', join(dir, 'data'), '-m', 'immediate', '-w', 'stop']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The test run's PostgreSQL server (ROUNDS_TEST_POSTGRES_URL, set in test/run.sh's PostgreSQL pass)
 * or, without one, a server started for the caller alone: for a spec that needs PostgreSQL in
 * every pass (several collectors on one database). `stop` stops only a server started here.
 */
export async function testPostgresServer(): Promise<{ url: string; stop(): void }> {
  const shared = process.env['ROUNDS_TEST_POSTGRES_URL'];
  if (shared) return { url: shared, stop: () => undefined };
  const own = await startPostgres();
  return { url: own.url, stop: () => stopPostgres(own.dir) };
}

// `start` prints `<url> <dir>` for the shell; `stop <dir>` stops that server and removes its files.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [command, arg] = process.argv.slice(2);
  if (command === 'start') {
    const server = await startPostgres();
    process.stdout.write(`${server.url} ${server.dir}\n`);
  } else if (command === 'stop' && arg) {
    stopPostgres(arg);
  } else {
    process.stderr.write('usage: node dist/test/peers/postgres.js start | stop <dir>\n');
    process.exit(2);
  }
}
