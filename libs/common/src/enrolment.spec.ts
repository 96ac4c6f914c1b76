import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatEnrolment, parseEnrolment, type Enrolment } from './enrolment.js';

const TOKEN = 'Qm9vdHN0cmFwLXRva2VuLWZvci10ZXN0cy0xMjM0NTY';
const FP = '3f'.repeat(32);
const HINT = 'copy the whole last line printed by `rounds-agent init` (it starts with rounds://)';

describe('formatEnrolment / parseEnrolment', () => {
  const roundTrips: [string, Enrolment][] = [
    ['a host name', { host: 'pacs-agent.hospital.example', port: 7443, token: TOKEN, fingerprint: FP }],
    ['an IPv4 address', { host: '10.0.4.7', port: 1, token: TOKEN, fingerprint: FP }],
    ['an IPv6 address', { host: 'fd00::7', port: 65535, token: TOKEN, fingerprint: FP }],
    ['the IPv6 loopback', { host: '::1', port: 7443, token: `${TOKEN}-_`, fingerprint: FP }],
  ];
  for (const [what, enrolment] of roundTrips) {
    it(`round-trips an enrolment for ${what}`, () => {
      assert.deepEqual(parseEnrolment(formatEnrolment(enrolment)), enrolment);
    });
  }

  it('writes an IPv6 host in brackets so the port stays separate', () => {
    assert.equal(formatEnrolment({ host: 'fd00::7', port: 7443, token: TOKEN, fingerprint: FP }), `rounds://${TOKEN}@[fd00::7]:7443?fp=${FP}`);
  });

  it('accepts a fingerprint in upper case with colons, as openssl prints it, and a pasted line with spaces around it', () => {
    const openssl = FP.toUpperCase().match(/../g)!.join(':');
    assert.deepEqual(parseEnrolment(`  rounds://${TOKEN}@agent:7443?fp=${openssl}\n`), {
      host: 'agent',
      port: 7443,
      token: TOKEN,
      fingerprint: FP,
    });
  });

  const invalid: [string, string, string][] = [
    ['text that is not a URL', 'agent 10.0.4.7 port 7443', `enrolment string is not a rounds:// URL — ${HINT}`],
    ['a port above 65535', `rounds://${TOKEN}@agent:70000?fp=${FP}`, `enrolment string is not a rounds:// URL — ${HINT}`],
    ['host:port alone, which parses as a URL with scheme "agent:"', 'agent:7443', `enrolment string must start with rounds:// — ${HINT}`],
    ['another scheme', `https://${TOKEN}@agent:7443?fp=${FP}`, `enrolment string must start with rounds:// — ${HINT}`],
    ['no token', `rounds://agent:7443?fp=${FP}`, `enrolment string has no valid token before the @ — ${HINT}`],
    ['a token too short', `rounds://abc@agent:7443?fp=${FP}`, `enrolment string has no valid token before the @ — ${HINT}`],
    ['a token with a forbidden character', `rounds://${TOKEN}%2B@agent:7443?fp=${FP}`, `enrolment string has no valid token before the @ — ${HINT}`],
    ['no port', `rounds://${TOKEN}@agent?fp=${FP}`, `enrolment string needs host:port after the @ — ${HINT}`],
    ['port 0', `rounds://${TOKEN}@agent:0?fp=${FP}`, `enrolment string needs host:port after the @ — ${HINT}`],
    ['no fingerprint', `rounds://${TOKEN}@agent:7443`, `enrolment string needs fp=<sha-256 certificate fingerprint, 64 hex digits> — ${HINT}`],
    [
      'a truncated fingerprint',
      `rounds://${TOKEN}@agent:7443?fp=${FP.slice(0, 63)}`,
      `enrolment string needs fp=<sha-256 certificate fingerprint, 64 hex digits> — ${HINT}`,
    ],
    [
      'a fingerprint with a non-hex digit',
      `rounds://${TOKEN}@agent:7443?fp=${FP.slice(0, 63)}g`,
      `enrolment string needs fp=<sha-256 certificate fingerprint, 64 hex digits> — ${HINT}`,
    ],
  ];
  for (const [what, text, message] of invalid) {
    it(`refuses ${what} with a message that says which part is wrong`, () => {
      assert.throws(() => parseEnrolment(text), { message });
    });
  }
});
