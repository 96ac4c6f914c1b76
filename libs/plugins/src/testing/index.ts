export * from './harness.js';
export * from './tls-fixture.js';
