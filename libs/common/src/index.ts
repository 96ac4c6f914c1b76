export * from './status.js';
export * from './reasons.js';
export * from './clock.js';
export * from './scheduler.js';
export * from './enrolment.js';
export * from './secrets.js';
export * from './agent-proto.js';
export * from './thresholds/range.js';
