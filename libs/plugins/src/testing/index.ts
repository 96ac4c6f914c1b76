export * from './harness.js';
export * from './tls-fixture.js';
export * from './sample-outcomes.js';
