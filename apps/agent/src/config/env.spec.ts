import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { agentHeapFromEnv, readAgentEnv } from './env.js';

describe('readAgentEnv', () => {
  it('reads the settings it is given and defaults the log level', () => {
    const env = readAgentEnv({ ROUNDS_AGENT_CONFIG: '/etc/rounds/agent.yaml', ROUNDS_AGENT_LISTEN: '0.0.0.0:7443' });

    assert.deepEqual(env, {
      configPath: '/etc/rounds/agent.yaml',
      listen: '0.0.0.0:7443',
      token: undefined,
      logLevel: 'log',
      eventLogSource: undefined,
      systemRoot: undefined,
      windowsFolders: undefined,
    });
    assert.ok(Object.isFrozen(env));
  });

  it("takes Windows' %SystemRoot%, where icacls and whoami are run from", () => {
    assert.equal(readAgentEnv({ SystemRoot: 'D:\\WINDOWS' }).systemRoot, 'D:\\WINDOWS');
  });

  it('refuses a log level it does not know, naming the allowed ones', () => {
    assert.throws(() => readAgentEnv({ ROUNDS_AGENT_LOG_LEVEL: 'verbose' }), {
      message: 'ROUNDS_AGENT_LOG_LEVEL must be one of error, warn, log, debug, got "verbose"',
    });
  });

  it('refuses a ROUNDS_AGENT_HEAP it does not know, saying what each allowed value does', () => {
    assert.throws(() => readAgentEnv({ ROUNDS_AGENT_HEAP: 'large' }), {
      message: `ROUNDS_AGENT_HEAP must be one of small, node (small: a young generation of 1 MiB semi-spaces and an old one collected at 30 % growth; node: V8's own sizing), got "large"`,
    });
  });
});

describe('agentHeapFromEnv', () => {
  it('is small unless ROUNDS_AGENT_HEAP says node, and undefined for anything else', () => {
    assert.equal(agentHeapFromEnv({}), 'small');
    assert.equal(agentHeapFromEnv({ ROUNDS_AGENT_HEAP: '' }), 'small');
    assert.equal(agentHeapFromEnv({ ROUNDS_AGENT_HEAP: 'small' }), 'small');
    assert.equal(agentHeapFromEnv({ ROUNDS_AGENT_HEAP: 'node' }), 'node');
    assert.equal(agentHeapFromEnv({ ROUNDS_AGENT_HEAP: 'Node' }), undefined);
  });
});
